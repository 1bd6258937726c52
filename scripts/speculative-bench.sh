#!/usr/bin/env bash
# Speculative decoding's speed-up: answers each prompt file with `batch --parallel 1`, drafting
# off and on, alternating round by round (so a drift in the machine's speed hits both alike), and
# prints per prompt the decode tok/s of each, on ÷ off, the drafted tokens kept, and whether the
# two texts are identical (they must be at temperature 0).
#
#   scripts/speculative-bench.sh MODEL.gguf [ROUNDS] [PROMPTS.jsonl ...]
#
# PROMPTS default to tests/data/speculative/grounded.jsonl and open_ended.jsonl (temperature 0).
# Environment: DRAFT (the mode compared with none, default ngram), THREADS (default 2), OURS (our
# binary; default target/release/bitnet-tui, built if missing).
set -euo pipefail

if [ $# -lt 1 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
model=$1 rounds=${2:-3}
shift $(($# < 2 ? $# : 2))
repo=$(cd "$(dirname "$0")/.." && pwd)
files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$repo/tests/data/speculative/grounded.jsonl" "$repo/tests/data/speculative/open_ended.jsonl")
draft=${DRAFT:-ngram} threads=${THREADS:-2}
ours=${OURS:-$repo/target/release/bitnet-tui}
[ -f "$model" ] || { echo "no model file at $model" >&2; exit 1; }
if [ ! -x "$ours" ]; then
  (cd "$repo" && cargo build --release --quiet)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One JSON output line → "line decode_tok_s draft_tokens draft_accepted".
fields() {
  sed -E 's/.*"line":([0-9]+).*"decode_tok_s":([0-9.eE+-]+).*"draft_tokens":([0-9]+),"draft_accepted":([0-9]+).*/\1 \2 \3 \4/'
}

printf '%-18s %5s %5s %10s %10s %6s %12s %9s\n' prompts round line "none t/s" "$draft t/s" ratio "kept/drafted" identical
for file in "${files[@]}"; do
  name=$(basename "$file" .jsonl)
  for round in $(seq "$rounds"); do
    for mode in none "$draft"; do
      rm -f "$work/$mode.jsonl"
      "$ours" batch -m "$model" -i "$file" -o "$work/$mode.jsonl" --parallel 1 -t "$threads" --draft "$mode" 2>/dev/null
    done
    paste -d '\n' "$work/none.jsonl" "$work/$draft.jsonl" | while read -r off && read -r on; do
      read -r line off_tps _ _ <<<"$(fields <<<"$off")"
      read -r _ on_tps drafted kept <<<"$(fields <<<"$on")"
      same=no
      [ "$(sed -E 's/,"stats":.*//' <<<"$off")" = "$(sed -E 's/,"stats":.*//' <<<"$on")" ] && same=yes
      printf '%-18s %5s %5s %10.1f %10.1f %6.2f %12s %9s\n' "$name" "$round" "$line" "$off_tps" "$on_tps" \
        "$(awk -v a="$on_tps" -v b="$off_tps" 'BEGIN { print a / b }')" "$kept/$drafted" "$same"
    done
  done
done
