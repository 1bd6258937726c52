#!/usr/bin/env bash
# Speed against bitnet.cpp on the same model and cores: alternates bitnet.cpp's llama-bench and
# `bitnet-tui bench` round by round (so a drift in the machine's speed hits both alike) and prints
# each round's prompt-processing (pp) and generation (tg) tok/s, then ours ÷ theirs per test.
#
#   scripts/compare-bitnet-cpp.sh BITNET_CPP_BUILD_DIR MODEL.gguf [ROUNDS] [THREADS]
#
# BITNET_CPP_BUILD_DIR is a bitnet.cpp build folder (with bin/llama-bench), built as its README
# says; this script neither fetches nor builds it. THREADS is a comma-separated list (default 2).
# Environment: PP (prompt tokens, 128), TG (generated tokens, 64), REPS (repetitions per round,
# 3), LM_HEAD (our head: q8 by default; f16 reads the same bytes per token as bitnet.cpp's
# default), OURS (our binary; default target/release/bitnet-tui, built if missing).
# Both programs use llama-bench's definitions: pp = prompt tokens per second in one batch, tg =
# tokens per second generating one at a time after an empty context.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
build=$1 model=$2 rounds=${3:-3} threads=${4:-2}
pp=${PP:-128} tg=${TG:-64} reps=${REPS:-3} head=${LM_HEAD:-q8}
repo=$(cd "$(dirname "$0")/.." && pwd)
ours=${OURS:-$repo/target/release/bitnet-tui}
theirs=$build/bin/llama-bench

[ -x "$theirs" ] || { echo "no llama-bench at $theirs: give bitnet.cpp's build folder" >&2; exit 1; }
[ -f "$model" ] || { echo "no model file at $model" >&2; exit 1; }
if [ ! -x "$ours" ]; then
  (cd "$repo" && cargo build --release --quiet)
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds: bitnet.cpp" >&2
  "$theirs" -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o jsonl 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        r = json.loads(line)
        test = "pp%d" % r["n_prompt"] if r["n_prompt"] else "tg%d" % r["n_gen"]
        print(json.dumps({"round": int(sys.argv[1]), "who": "bitnet.cpp", "threads": r["n_threads"], "test": test, "tok_s": r["avg_ts"]}))
' "$round" >>"$results"
  echo "round $round/$rounds: bitnet-tui" >&2
  "$ours" bench -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" --lm-head "$head" --json 2>/dev/null |
    python3 -c '
import json, sys
for r in json.load(sys.stdin)["rows"]:
    print(json.dumps({"round": int(sys.argv[1]), "who": "bitnet-tui", "threads": r["threads"], "test": r["test"], "tok_s": r["tok_s"]["mean"]}))
' "$round" >>"$results"
done

python3 - "$results" "$model" "$head" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"model {sys.argv[2]}, our LM head {sys.argv[3]}")
print("| round | threads | test | bitnet.cpp tok/s | bitnet-tui tok/s | ours ÷ theirs |")
print("|---:|---:|---|---:|---:|---:|")
ratios = {}
keys = sorted({(r["round"], r["threads"], r["test"]) for r in rows})
for key in keys:
    got = {r["who"]: r["tok_s"] for r in rows if (r["round"], r["threads"], r["test"]) == key}
    if len(got) < 2:
        continue
    ratio = got["bitnet-tui"] / got["bitnet.cpp"]
    ratios.setdefault(key[1:], []).append(ratio)
    print(f"| {key[0]} | {key[1]} | {key[2]} | {got['bitnet.cpp']:.2f} | {got['bitnet-tui']:.2f} | {ratio:.2f}× |")
print()
for (threads, test), values in sorted(ratios.items()):
    print(f"{test} at {threads} thread(s): ours ÷ bitnet.cpp = {statistics.mean(values):.2f}× "
          f"(rounds: {', '.join(f'{v:.2f}' for v in values)})")
EOF
