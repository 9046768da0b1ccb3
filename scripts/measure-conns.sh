#!/usr/bin/env bash
# Measure latchd's memory under many half-sent request headers on its TCP listener:
# builds latchd and scripts/halfopen, starts latchd --sim (API on 127.0.0.1:PORT) inside a
# cgroup v1 memory cgroup, opens N connections that each send half a header and hold them,
# and prints the cgroup's peak (memory.max_usage_in_bytes) before and during the attack.
# Needs root (the cgroup) and a file limit above N: it raises ulimit -n itself.
# Usage: scripts/measure-conns.sh [N] [PEERS] [WORKDIR]
#   N      connections (default 19000)
#   PEERS  loopback source addresses 127.0.0.1 … 127.0.0.PEERS (default 1)
#   HOLD   (environment) how long the connections are held before they are probed (default 3s)
# "still open" is the client's view: a connection the kernel completed but latchd has not
# accepted yet (a full accept queue) counts as open until latchd accepts and closes it.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-19000}
peers=${2:-1}
dir=${3:-/tmp/latch-measure-conns}
port=${PORT:-18700}
go=${GO:-go}
cg=/sys/fs/cgroup/memory/latchtest
ulimit -n "$(ulimit -Hn)"
. scripts/lib.sh
build_latchd "$dir"
"$go" build -o "$dir/halfopen" ./scripts/halfopen
sim_config "$dir" "listen = \"127.0.0.1:$port\""
[ -d "$cg" ] && rmdir "$cg" 2>/dev/null || true
mkdir -p "$cg"
# latchd runs in the cgroup from its first instruction; stdin stays open (tail) so --sim runs on.
tail -f /dev/null | sh -c "echo \$\$ >$cg/cgroup.procs; exec '$dir/latchd' --sim --config '$dir/latch.toml' --log-format json" \
  >"$dir/out.jsonl" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rmdir $cg 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '"api serving"' "$dir/out.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"api serving"' "$dir/out.jsonl" || { echo "latchd did not start:"; cat "$dir/out.jsonl"; exit 1; }
idle=$(cat "$cg/memory.max_usage_in_bytes")
echo "latchd started: cgroup peak $((idle / 1048576)) MiB ($idle bytes)"
"$dir/halfopen" -addr "127.0.0.1:$port" -n "$n" -peers "$peers" -hold "${HOLD:-3s}"
peak=$(cat "$cg/memory.max_usage_in_bytes")
echo "after $n half-sent headers from $peers peer(s): cgroup peak $((peak / 1048576)) MiB ($peak bytes)"
echo "refusals logged: $(grep -c 'connection cap' "$dir/out.jsonl" || true)"
