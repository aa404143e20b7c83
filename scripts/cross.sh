#!/usr/bin/env bash
# Cross-builds for the platforms lanyard ships on, so a change that breaks
# macOS, Windows or ARM fails here and not on a user's machine: go vet (which
# type-checks the tests too) and go build for each, and the test binaries of
# every package linked for Windows and macOS. Without cgo, as CI cross-builds
# (on macOS that drops the Keychain backend: see docs/keyrings.md).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64; do
  export GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0
  # The host's vet and build ran in make test.
  [ "$target" = "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" ] && continue
  # vet once per OS (it looks at build tags, not at the CPU); build each.
  case "$target" in
    linux/arm64|darwin/amd64)
      echo "cross: $target: build"
      go build ./...
      continue ;;
  esac
  echo "cross: $target: vet, build"
  go vet ./...
  go build ./...
done
for target in windows/amd64 darwin/arm64; do
  export GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0
  echo "cross: $target: test binaries"
  # One go test -c for all packages: the go command builds and links them
  # in parallel (a test binary per package, named after it).
  go test -c -o "$out/$GOOS-$GOARCH/" ./...
done
echo "cross: ok"
