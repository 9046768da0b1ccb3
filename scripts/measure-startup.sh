#!/usr/bin/env bash
# Measure latchd's start-up time and peak RSS with a database of N users (default 1,000,000):
# builds latchd, makes the database once (scripts/mkdb), then starts latchd --sim on it under
# /usr/bin/time -v and stops it as soon as it logs "latchd started".
# Usage: scripts/measure-startup.sh [N] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
dir=${2:-/tmp/latch-measure-$n}
go=${GO:-go}
. scripts/lib.sh
build_latchd "$dir"
if [ ! -s "$dir/data/latch.db" ]; then
  "$go" run ./scripts/mkdb -n "$n" -db "$dir/data/latch.db" -key "$dir/data/device.key"
fi
sim_config "$dir"
ls -l "$dir/data/latch.db"
# 1. Start and stop: "quit" is read once the daemon runs; it then stops gracefully.
t0=$(date +%s%N)
echo quit | /usr/bin/time -v "$dir/latchd" --sim --config "$dir/latch.toml" --log-format json \
  >"$dir/out.jsonl" 2>"$dir/time.txt" || true
t1=$(date +%s%N)
started=$(grep -m1 '"latchd started"' "$dir/out.jsonl" | sed 's/.*"time":"\([^"]*\)".*/\1/')
echo "start and stop: whole run $(( (t1 - t0) / 1000000 )) ms; latchd started at $started"
grep -E 'Elapsed|Maximum resident' "$dir/time.txt"
# 2. The same with one decision: user u0777777's card (mkdb: h10304, facility 2, card 277777)
#    is looked up among the million and granted before quitting.
printf 'badge h10304 2 277777\nwait 1s\nquit\n' | /usr/bin/time -v "$dir/latchd" --sim --config "$dir/latch.toml" \
  --log-format json >"$dir/out2.jsonl" 2>"$dir/time2.txt" || true
echo "start, one grant, stop: $(grep -c '"access_granted"' "$dir/out2.jsonl") access_granted"
grep -E 'Elapsed|Maximum resident' "$dir/time2.txt"
