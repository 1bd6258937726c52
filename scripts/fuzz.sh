#!/usr/bin/env bash
# Runs each cargo-fuzz target for a while, starting from the committed seeds.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 60 s each, every target)
#
# FUZZ_BUILD holds the `cargo fuzz` build flags: "-O" (default: optimized, AddressSanitizer) for
# long runs; CI uses "--dev -s none" (debug build with overflow checks, no sanitizer), which
# builds in a third of the time. A failure (panic, a unit slower than 10 s, an allocation larger
# than the input, more than 2 GB of RSS) stops the run with the input saved under
# fuzz/artifacts/TARGET/: minimize it with `cargo +nightly fuzz tmin TARGET FILE` and turn it
# into a regression test. Each target's corpus grows in fuzz/corpus/TARGET (not committed).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(gguf tokenizer chat_template config conversation)
fi
read -r -a build <<<"${FUZZ_BUILD:--O}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi

cargo +nightly fuzz build "${build[@]}"
summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="target/fuzz-$target.log"
  echo "fuzzing $target for ${seconds}s"
  if ! cargo +nightly fuzz run "${build[@]}" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  rss=$(grep -m1 -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$')
  summary+=("$(printf '%-14s %10s runs  %5s MB peak RSS  %6s corpus files' "$target" "$runs" "$rss" "$(ls "corpus/$target" | wc -l)")")
done
printf '%s\n' "${summary[@]}"
