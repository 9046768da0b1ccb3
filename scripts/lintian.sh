#!/usr/bin/env bash
# Run lintian on a latch .deb (make lintian). Fails on any error or warning; the
# overrides in deploy/deb/lintian-overrides (installed with the package, where
# lintian finds them) say why each accepted tag is fine.
set -euo pipefail
deb=$1
command -v lintian >/dev/null || { echo "lintian: not installed (apt-get install lintian)" >&2; exit 1; }
out=$(lintian --fail-on error,warning --display-info --tag-display-limit 0 "$deb" 2>&1) && rc=0 || rc=$?
[ -z "$out" ] || printf "%s\n" "$out"
if [ "$rc" -ne 0 ]; then echo "lintian: $deb has errors or warnings (above)" >&2; exit 1; fi
echo "lintian: $(basename "$deb"): no errors, no warnings"
