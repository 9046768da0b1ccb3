#!/bin/sh
# dupcount.sh: the repeated blocks of six or more lines in the tree, counted
# by the `duplicates` tool twice: as it reads the tree, and on a copy in
# which every Go import block is written as single-line import
# declarations. The tool passes over import lines, as its README says, but
# not the lines inside `import ( … )`, so two files that import the same six
# packages count as a repeated block. The copy is made in a temporary
# folder only; the repository keeps gofmt's grouped imports.
# Usage: scripts/dupcount.sh [duplicates options]   (docs/architecture.md)
set -eu
command -v duplicates >/dev/null || { echo "dupcount: the duplicates tool is not on PATH" >&2; exit 1; }
top=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "as read:"
(cd "$top" && duplicates --most 200 --seconds 90 "$@") | head -1
git -C "$top" ls-files -z | python3 -c '
import os, re, sys
src, dst = sys.argv[1], sys.argv[2]
block = re.compile(r"(?ms)^import \((.*?)^\)")
def flat(m):
    lines = [l.strip() for l in m.group(1).split("\n")]
    return "\n".join("import " + l for l in lines if l and not l.startswith("//"))
for f in sys.stdin.read().split("\0"):
    p = os.path.join(src, f)
    if not f or not os.path.isfile(p) or os.path.islink(p):
        continue
    out = os.path.join(dst, f)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    data = open(p, "rb").read()
    if f.endswith(".go"):
        data = block.sub(flat, data.decode("utf-8", "replace")).encode()
    open(out, "wb").write(data)
' "$top" "$tmp"
echo "without the lines of import blocks:"
(cd "$tmp" && duplicates --most 200 --seconds 90 "$@") | head -1
