#!/usr/bin/env bash
# Runs each cargo-fuzz target for a while, starting from the committed seeds.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 60 s each, every target)
#
# FUZZ_BUILD holds the `cargo fuzz build` flags: "-O" (default: optimized, with AddressSanitizer)
# for long runs; CI uses "--dev -s none" (a debug build with overflow checks and no sanitizer,
# which builds in about a third of the time). FUZZ_JOBS targets run at once (default 1).
#
# A failure (a panic, a unit slower than 10 s, one allocation larger than the input, more than
# 2 GB of RSS) stops the run with the input saved under fuzz/artifacts/TARGET/: minimize it with
# `cargo +nightly fuzz tmin TARGET FILE` and turn it into a regression test. Each target's corpus
# grows in fuzz/corpus/TARGET (not committed).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(gguf tokenizer chat_template config conversation)
fi
read -r -a build <<<"${FUZZ_BUILD:--O}"
jobs=${FUZZ_JOBS:-1}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi

cargo +nightly fuzz build "${build[@]}"
profile=release
if [[ " ${build[*]} " == *" --dev "* || " ${build[*]} " == *" -D "* ]]; then
  profile=debug
fi
out="${CARGO_TARGET_DIR:-target}"
bin="$out/x86_64-unknown-linux-gnu/$profile"

# Runs one target; prints its summary line, or its log's tail and fails.
fuzz_one() {
  local target=$1 log="$out/fuzz-$1.log"
  mkdir -p "corpus/$target" "artifacts/$target"
  if ! "$bin/$target" "corpus/$target" "seeds/$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="artifacts/$target/" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    return 1
  fi
  local runs rss
  runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  rss=$(grep -m1 -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$')
  printf '%-14s %10s runs in %ss  %5s MB peak RSS  %6s corpus files\n' \
    "$target" "$runs" "$seconds" "$rss" "$(find "corpus/$target" -type f | wc -l)"
}
export -f fuzz_one
export seconds bin out

echo "fuzzing ${targets[*]} for ${seconds}s each, $jobs at a time"
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one "$@"' _ {}
