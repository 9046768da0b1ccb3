#!/usr/bin/env bash
# Run one scenario with each cross-built latchd (bin/arm6, bin/arm7, bin/arm64) under
# qemu-user and compare its JSON-lines output with the native run. Called by `make qemu`
# after `make cross`. Usage: scripts/qemu-scenario.sh [BIN_DIR] [SCENARIO]
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin}
scenario=${2:-testdata/scenarios/card_and_code.scn}
go=${GO:-go}

need() { command -v "$1" >/dev/null || { echo "qemu: $1 not found (apt-get install qemu-user)" >&2; exit 1; }; }
need qemu-arm
need qemu-aarch64

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Native reference run, from a fresh build so it matches the sources.
"$go" build -o "$tmp/latchd" ./cmd/latchd
if ! "$tmp/latchd" scenario "$scenario" >"$tmp/native.jsonl" 2>"$tmp/native.err"; then
  echo "qemu: native run of $scenario failed:" >&2; cat "$tmp/native.err" >&2; exit 1
fi
lines=$(wc -l <"$tmp/native.jsonl")
[ "$lines" -gt 0 ] || { echo "qemu: native run printed no events" >&2; exit 1; }

status=0
# -cpu arm1176 is the Pi 1 / Zero core (ARMv6): the GOARM=6 binary must not use ARMv7
# instructions. cortex-a7 is the Pi 2's core (ARMv7); cortex-a53 the Pi 3's (ARMv8).
for run in "arm6 qemu-arm -cpu arm1176" "arm7 qemu-arm -cpu cortex-a7" "arm64 qemu-aarch64 -cpu cortex-a53"; do
  set -- $run
  arch=$1; shift
  exe="$bin/$arch/latchd"
  [ -x "$exe" ] || { echo "qemu: $exe missing (run make cross)" >&2; status=1; continue; }
  start=$(date +%s%N)
  if ! "$@" "$exe" scenario "$scenario" >"$tmp/$arch.jsonl" 2>"$tmp/$arch.err"; then
    echo "qemu: $arch: latchd scenario failed:" >&2; cat "$tmp/$arch.err" >&2; status=1; continue
  fi
  if ! diff -u "$tmp/native.jsonl" "$tmp/$arch.jsonl" >"$tmp/$arch.diff"; then
    echo "qemu: $arch: output differs from the native run:" >&2; head -40 "$tmp/$arch.diff" >&2; status=1; continue
  fi
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  printf 'qemu: %-5s ok: %d events identical to native (%d ms)\n' "$arch" "$lines" "$ms"
done
# The GPIO v2 uAPI structs must have the kernel's layout on every ARM ABI (32-bit arm
# aligns uint64 differently): run reader/gpiocdev's TestABILayout as an arm test binary.
for run in "arm6 arm 6 qemu-arm -cpu arm1176" "arm7 arm 7 qemu-arm -cpu cortex-a7" "arm64 arm64 - qemu-aarch64 -cpu cortex-a53"; do
  set -- $run
  arch=$1 goarch=$2 goarm=$3; shift 3
  test="$tmp/gpiocdev-$arch.test"
  if [ "$goarm" = - ]; then
    CGO_ENABLED=0 GOOS=linux GOARCH=$goarch "$go" test -c -o "$test" ./reader/gpiocdev/
  else
    CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm "$go" test -c -o "$test" ./reader/gpiocdev/
  fi
  if ! "$@" "$test" -test.run '^TestABILayout$' -test.v >"$tmp/abi-$arch.out" 2>&1 || ! grep -q '^--- PASS: TestABILayout' "$tmp/abi-$arch.out"; then
    echo "qemu: $arch: TestABILayout failed:" >&2; cat "$tmp/abi-$arch.out" >&2; status=1; continue
  fi
  printf 'qemu: %-5s ok: TestABILayout\n' "$arch"
done
exit $status
