#!/usr/bin/env bash
# make hil: latch's GPIO code against a real kernel's GPIO character device, in a VM.
# 1. scripts/hil/kernel.sh builds (once; cached outside the repository) an x86-64 kernel
#    with gpio-sim from Debian's linux-source-6.1.
# 2. Static test binaries (CGO_ENABLED=0 go test -c -tags hil) of reader/gpiocdev and
#    cmd/latchd go into a busybox initramfs with scripts/hil/init.
# 3. qemu-system-x86_64 -accel tcg boots it; the tests make gpio-sim chips through configfs
#    and drive and read their lines; the guest prints one result line and powers off.
# docs/hil.md is the how-to.
set -euo pipefail
cd "$(dirname "$0")/../.."
go=${GO:-go}
timeout=${HIL_TIMEOUT:-900}
need() { command -v "$1" >/dev/null || { echo "hil: $1 not found (apt-get install $2)" >&2; exit 1; }; }
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
# busybox-static's busybox: static (the initramfs has no libc), with reboot and mount.
applets=$(/bin/busybox --list 2>/dev/null || true)
case $applets in *reboot*) ;; *) echo "hil: /bin/busybox not found (apt-get install busybox-static)" >&2; exit 1 ;; esac
! LC_ALL=C ldd /bin/busybox >/dev/null 2>&1 || { echo "hil: /bin/busybox is not static (apt-get install busybox-static)" >&2; exit 1; }

kernel=$(nice -n 10 scripts/hil/kernel.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
mkdir -p "$root/bin" "$root/hil"
cp /bin/busybox "$root/bin/busybox"
cp scripts/hil/init "$root/init"
# Each test binary in its own folder, with its package's testdata and the -test.run
# pattern of the tests it runs in the guest.
build() { # name package pattern
  mkdir -p "$root/hil/$1"
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "$go" test -c -tags hil -o "$root/hil/$1/test" "./$2"
  printf '%s' "$3" >"$root/hil/$1/run"
  [ ! -d "$2/testdata" ] || cp -r "$2/testdata" "$root/hil/$1/"
}
build gpiocdev reader/gpiocdev '^(TestHIL.*|TestABILayout|TestIoctlNumbers|TestRequestEncoding)$'
build latchd cmd/latchd '^TestHIL'
( cd "$root" && find . | cpio -o -H newc --quiet ) | gzip -1 >"$tmp/initramfs.gz"

log="$tmp/console.log"
start=$(date +%s)
echo "hil: booting $kernel under qemu-system-x86_64 -accel tcg (gpio-sim)"
rc=0
timeout "$timeout" qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$tmp/initramfs.gz" \
  -append "console=ttyS0 panic=-1 quiet" </dev/null >"$log" 2>&1 || rc=$?
tr -d '\r' <"$log" | grep -v '^$' | sed 's/^/  | /'
secs=$(( $(date +%s) - start ))
if [ "$rc" -eq 124 ]; then echo "hil: FAIL: the VM did not finish within ${timeout}s" >&2; exit 1; fi
result=$(tr -d '\r' <"$log" | sed -n 's/^hil-guest: result //p' | tail -1)
case $result in
0) echo "hil: gpio-sim PASS ($(tr -d '\r' <"$log" | grep -c '^--- PASS') tests, ${secs}s in the VM)" ;;
"") echo "hil: FAIL: the guest printed no result (qemu exit $rc)" >&2; exit 1 ;;
*) echo "hil: gpio-sim FAIL (see the console above)" >&2; exit 1 ;;
esac
