#!/usr/bin/env bash
# make dist: release archives, checksums and Linux packages into dist/.
#
#   bash scripts/dist.sh VERSION CMD...      (the Makefile passes $(VERSION) $(DIST_CMDS))
#
# dist/lanyard_V_OS_ARCH.tar.gz (linux, darwin) and .zip (windows) hold the
# binaries, README.md, LICENSE and completions/; lanyard_V_ARCH.deb and
# lanyard-V.ARCH.rpm (linux amd64, arm64) install them under /usr; checksums.txt
# is `sha256sum -c` input. Reproducible: the same commit gives the same bytes
# (-trimpath, every mtime = SOURCE_DATE_EPOCH = the commit's time, sorted
# entries, no owner names, gzip -n). nfpm is built once, pinned, from the
# module proxy into $LANYARD_TOOLS_DIR (default $(go env GOPATH)/pkg/lanyard-tools;
# NFPM=path uses another binary).
set -euo pipefail
cd "$(dirname "$0")/.."
# Packages must not take the builder's umask (0002 made completions and the
# HTTPie plugin 0664 and changed the checksums): files are staged under
# 022, and every packaged entry gets an explicit mode below (binaries 0755,
# everything else 0644, directories 0755). .ci/check.d/25-dist-modes.sh
# checks the result.
umask 022

version="$1"; shift
cmds=("$@")
[ ${#cmds[@]} -gt 0 ] || { echo "dist.sh: no commands given" >&2; exit 2; }
platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
nfpm_version=v2.44.1

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
export TZ=UTC LC_ALL=C
# Package versions must start with a digit: v1.2.3 -> 1.2.3, an untagged
# commit abc1234 -> 0.0.0+gabc1234 (dirty trees: +gabc1234.dirty).
case "$version" in
  v[0-9]*) pkg_version="${version#v}" ;;
  *) pkg_version="0.0.0+g${version}" ;;
esac
pkg_version="${pkg_version//-/.}"

stage="$(mktemp -d "${TMPDIR:-/tmp}/lanyard-dist.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
rm -rf dist
mkdir -p dist

say() { echo "dist: $*" >&2; }

# Completion scripts and the HTTPie plugin are the same on every platform.
say "completions, HTTPie plugin"
mkdir -p "$stage/host" "$stage/completions"
go build -trimpath -o "$stage/host/" ./cmd/lanyard-engine
"$stage/host/lanyard-engine" completion bash > "$stage/completions/lanyard.bash"
"$stage/host/lanyard-engine" completion zsh > "$stage/completions/_lanyard"
"$stage/host/lanyard-engine" completion fish > "$stage/completions/lanyard.fish"
bash helpers/httpie/install.sh install --target "$stage/httpie" 2>/dev/null
chmod -R u=rwX,go=rX "$stage/completions" "$stage/httpie"

# Deterministic archives: fixed mtimes, sorted entries, numeric root owner.
tar_gz() { # DIR NAME OUT
  tar -C "$1" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' --format=gnu -cf - "$2" | gzip -n -9 > "$3"
}
zip_dir() { # DIR NAME OUT
  find "$1/$2" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  (cd "$1" && find "$2" -type f | sort | zip -X -D -q -9 -@ "$OLDPWD/$3")
}

for p in "${platforms[@]}"; do
  os="${p%/*}" arch="${p#*/}"
  name="lanyard_${version}_${os}_${arch}"
  say "$name"
  dir="$stage/$name"
  mkdir -p "$dir/completions"
  # Static everywhere: macOS binaries are cross-built without cgo, so they
  # lack the Keychain backend (make install on a Mac has it).
  # DIST_BINARIES=DIR keeps each platform's binaries between runs of one
  # commit, so a second run (CI's check under another umask) packages the
  # same binaries again instead of building them again.
  if [ -n "${DIST_BINARIES:-}" ] && [ -d "$DIST_BINARIES/$name" ]; then
    cp -p "$DIST_BINARIES/$name/"* "$dir/" # the binaries only
  else
    CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath \
      -ldflags "-s -w -X main.version=$version" -o "$dir/" "${cmds[@]/#/./cmd/}"
    if [ -n "${DIST_BINARIES:-}" ]; then
      mkdir -p "$DIST_BINARIES/$name"
      find "$dir" -maxdepth 1 -type f -exec cp -p {} "$DIST_BINARIES/$name/" \;
    fi
  fi
  cp README.md LICENSE "$dir/"
  cp "$stage/completions/"* "$dir/completions/"
  chmod -R u=rwX,go=rX "$dir"
  chmod 0644 "$dir/README.md" "$dir/LICENSE" "$dir/completions/"*
  if [ "$os" = windows ]; then
    zip_dir "$stage" "$name" "dist/$name.zip"
  else
    tar_gz "$stage" "$name" "dist/$name.tar.gz"
  fi
done

# nfpm, pinned, built from the module proxy's source (once per machine).
nfpm="${NFPM:-${LANYARD_TOOLS_DIR:-$(go env GOPATH)/pkg/lanyard-tools}/nfpm-$nfpm_version}"
if [ ! -x "$nfpm" ]; then
  say "building nfpm $nfpm_version (once)"
  src="$(go mod download -json "github.com/goreleaser/nfpm/v2@$nfpm_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -n "$src" ] || { echo "dist.sh: go mod download of nfpm $nfpm_version failed" >&2; exit 1; }
  mkdir -p "$(dirname "$nfpm")"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$nfpm.tmp" ./cmd/nfpm)
  mv "$nfpm.tmp" "$nfpm"
fi

for arch in amd64 arm64; do
  dir="$stage/lanyard_${version}_linux_${arch}"
  conf="$stage/nfpm-$arch.yaml"
  {
    cat <<EOF
name: lanyard
arch: $arch
platform: linux
version: "$pkg_version"
version_schema: none
maintainer: "The lanyard authors <lanyard@lanyardhq.invalid>"
description: |
  OAuth 2.0 / OIDC tokens, cached and fresh, for git, kubectl, docker
  registries, cargo, Terraform/OpenTofu, HTTPie, Postman and scripts.
homepage: https://github.com/lanyardhq/lanyard
license: MIT
section: utils
mtime: "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
suggests:
  - git
  - httpie
contents:
EOF
    for c in "${cmds[@]}"; do
      printf '  - src: %s\n    dst: /usr/bin/%s\n    file_info: {mode: 0755}\n' "$dir/$c" "$c"
    done
    cat <<EOF
  - src: $stage/completions/lanyard.bash
    dst: /usr/share/bash-completion/completions/lanyard
    file_info: {mode: 0644}
  - src: $stage/completions/_lanyard
    dst: /usr/share/zsh/vendor-completions/_lanyard
    file_info: {mode: 0644}
    packager: deb
  - src: $stage/completions/_lanyard
    dst: /usr/share/zsh/site-functions/_lanyard
    file_info: {mode: 0644}
    packager: rpm
  - src: $stage/completions/lanyard.fish
    dst: /usr/share/fish/vendor_completions.d/lanyard.fish
    file_info: {mode: 0644}
  - src: README.md
    dst: /usr/share/doc/lanyard/README.md
    file_info: {mode: 0644}
  - src: LICENSE
    dst: /usr/share/doc/lanyard/copyright
    file_info: {mode: 0644}
    packager: deb
  - src: LICENSE
    dst: /usr/share/licenses/lanyard/LICENSE
    file_info: {mode: 0644}
    packager: rpm
EOF
    # Debian's httpie runs /usr/bin/python3, which reads /usr/lib/python3/dist-packages.
    (cd "$stage/httpie" && find . -type f | sort) | while read -r f; do
      printf '  - src: %s\n    dst: /usr/lib/python3/dist-packages/%s\n    file_info: {mode: 0644}\n    packager: deb\n' "$stage/httpie/${f#./}" "${f#./}"
    done
  } > "$conf"
  for pkg in deb rpm; do
    say "$pkg $arch"
    "$nfpm" package --config "$conf" --packager "$pkg" --target dist/ >/dev/null
  done
done

(cd dist && sha256sum -- *.tar.gz *.zip *.deb *.rpm > checksums.txt)
say "done: $(ls dist | wc -l) files in dist/"
cat dist/checksums.txt >&2
