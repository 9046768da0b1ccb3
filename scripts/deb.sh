#!/usr/bin/env bash
# Build latch_<version>-1_<arch>.deb from binaries already built (make deb builds them).
# Usage: scripts/deb.sh DEB_ARCH BIN_DIR OUT_DIR VERSION
#   DEB_ARCH  armhf | arm64 | amd64 (Debian's names)
#   BIN_DIR   the folder holding that architecture's latchd and latchctl
#   OUT_DIR   where the .deb goes
# The man pages and shell completions come from a latchctl and latchd built for this
# machine (they print them: --man, completion), so they match the help text exactly.
# nfpm is pinned and run through the module proxy; it is not a go.mod dependency.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$1 bin=$2 out=$3 version=$4
go=${GO:-go}
nfpm=${NFPM:-github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0}
export MAINTAINER=${MAINTAINER:-latch maintainers <maintainers@latchd.invalid>}
for f in latchd latchctl; do
  [ -x "$bin/$f" ] || { echo "deb: $bin/$f missing" >&2; exit 1; }
done
case $version in [0-9]*) ;; *) echo "deb: version $version must start with a digit" >&2; exit 1 ;; esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin/latchd" "$bin/latchctl" "$stage/"
cp deploy/deb/copyright deploy/deb/postinst deploy/deb/prerm deploy/deb/postrm deploy/deb/lintian-overrides "$stage/"
cp deploy/latch.toml "$stage/latch.toml"
# The unit, with the package's paths.
sed -e 's#/usr/local/bin/#/usr/bin/#g' -e 's#file:///usr/local/share/doc/latch/README.md#man:latchd(8)#' \
  -e 's#^\# systemd unit for latchd on a Raspberry Pi. Install: see README.md "Install on a Pi".#\# systemd unit for latchd, installed by the latch package.#' \
  -e '/^#   sudo /d' deploy/latchd.service >"$stage/latchd.service"
gzip -9n <README.md >"$stage/README.md.gz"

# Man pages and completions from this machine's build of the same sources.
host="$stage/host"
mkdir -p "$host"
CGO_ENABLED=0 "$go" build -o "$host/" ./cmd/latchd ./cmd/latchctl
"$host/latchd" --man | gzip -9n >"$stage/latchd.8.gz"
"$host/latchctl" --man | gzip -9n >"$stage/latchctl.1.gz"
for sh in bash zsh fish; do "$host/latchctl" completion "$sh" >"$stage/latchctl.$sh"; done
rm -rf "$host"

# changelog.Debian: deploy/deb/changelog, topped by an entry for this build when its
# version is not the newest entry's.
top=$(sed -n '1s/^latch (\([^)]*\)).*/\1/p' deploy/deb/changelog)
{
  if [ "$top" != "$version-1" ]; then
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    printf 'latch (%s-1) unstable; urgency=medium\n\n  * Build of commit %s.\n\n -- %s  %s\n\n' \
      "$version" "$commit" "$MAINTAINER" "$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")"
  fi
  cat deploy/deb/changelog
} | gzip -9n >"$stage/changelog.Debian.gz"

mkdir -p "$out"
out=$(cd "$out" && pwd)
cfg=$(pwd)/deploy/deb/nfpm.yaml
( cd "$stage" && ARCH=$arch VERSION=$version "$go" run "$nfpm" package --config "$cfg" --packager deb --target "$out/latch_${version}_${arch}.deb" ) >&2
echo "$out/latch_${version}_${arch}.deb"
