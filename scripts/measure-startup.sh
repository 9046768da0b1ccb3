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
mkdir -p "$dir/data"
"$go" build -o "$dir/latchd" ./cmd/latchd
if [ ! -s "$dir/data/latch.db" ]; then
  "$go" run ./scripts/mkdb -n "$n" -db "$dir/data/latch.db" -key "$dir/data/device.key"
fi
cat >"$dir/latch.toml" <<TOML
[controller]
database = "data/latch.db"
key_file = "data/device.key"
time_zone = "UTC"
[api]
socket = "api.sock"
[[reader]]
name = "r1"
door = "front"
d0 = "GPIO17"
d1 = "GPIO27"
[[door]]
name = "front"
relay = "GPIO23"
[[group]]
name = "staff"
doors = ["front"]
TOML
ls -l "$dir/data/latch.db"
# "quit" is read once the daemon runs; it then stops gracefully.
t0=$(date +%s%N)
echo quit | /usr/bin/time -v "$dir/latchd" --sim --config "$dir/latch.toml" --log-format json \
  >"$dir/out.jsonl" 2>"$dir/time.txt" || true
t1=$(date +%s%N)
started=$(grep -m1 '"latchd started"' "$dir/out.jsonl" | sed 's/.*"time":"\([^"]*\)".*/\1/')
echo "whole run (start, quit, stop): $(( (t1 - t0) / 1000000 )) ms; latchd started at $started"
grep -E 'Elapsed|Maximum resident' "$dir/time.txt"
