#!/usr/bin/env bash
# Build (once) the x86-64 kernel the HIL guest boots, from Debian's linux-source-6.1:
# `make tinyconfig` plus scripts/hil/kernel.fragment. The result is cached OUTSIDE the
# repository, under ${XDG_CACHE_HOME:-$HOME/.cache}/latch/hil/<key>/bzImage, where <key>
# hashes the fragment, this script and the linux-source package version: a cached kernel
# is reused until one of them changes. Prints the bzImage path on stdout; build output goes
# to <key>/build.log. Runs under `nice -n 10` (the build takes minutes of CPU).
# Usage: scripts/hil/kernel.sh [--print-key]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
frag="$here/kernel.fragment"
src=/usr/src/linux-source-6.1.tar.xz
[ -r "$src" ] || { echo "hil: $src missing (apt-get install linux-source-6.1)" >&2; exit 1; }
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %s "$src")
key=$( { cat "$frag" "$0"; echo "$ver"; } | sha256sum | cut -c1-16)
[ "${1:-}" = --print-key ] && { echo "$key"; exit 0; }
cache="${XDG_CACHE_HOME:-$HOME/.cache}/latch/hil/$key"
if [ -s "$cache/bzImage" ]; then echo "$cache/bzImage"; exit 0; fi

for t in make gcc flex bison bc; do
  command -v "$t" >/dev/null || { echo "hil: $t missing (apt-get install build-essential flex bison bc libelf-dev)" >&2; exit 1; }
done
mkdir -p "$cache"
# One build at a time per key (two make targets may start it together).
exec 9>"$cache/.lock"
flock 9
if [ -s "$cache/bzImage" ]; then echo "$cache/bzImage"; exit 0; fi
build="$cache/build"
rm -rf "$build"; mkdir -p "$build"
log="$cache/build.log"
echo "hil: building the guest kernel from linux-source-6.1 $ver into $cache (minutes; log $log)" >&2
start=$(date +%s)
{
  tar -xJf "$src" -C "$build" --strip-components=1
  cd "$build"
  make -s tinyconfig
  scripts/kconfig/merge_config.sh -m .config "$frag"
  make -s olddefconfig
} >"$log" 2>&1 || { echo "hil: configuring the kernel failed; tail of $log:" >&2; tail -30 "$log" >&2; exit 1; }
# Every option of the fragment must have survived olddefconfig (a missing dependency
# silently drops one, and the guest would then fail in a confusing way).
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=y' "$frag" | while read -r opt; do grep -qx "$opt" "$build/.config" || echo "$opt"; done)
[ -z "$missing" ] || { echo "hil: kernel options dropped by kconfig: $missing" >&2; exit 1; }
( cd "$build" && nice -n 10 make -j"$(nproc)" bzImage ) >>"$log" 2>&1 ||
  { echo "hil: kernel build failed; tail of $log:" >&2; tail -30 "$log" >&2; exit 1; }
cp "$build/arch/x86/boot/bzImage" "$cache/bzImage.tmp"
cp "$build/.config" "$cache/config"
mv "$cache/bzImage.tmp" "$cache/bzImage"
rm -rf "$build"
echo "hil: kernel built in $(( $(date +%s) - start ))s" >&2
echo "$cache/bzImage"
