#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short time ($1, default 5s).
# The seed corpora (testdata/fuzz) always run as part of go test.
set -euo pipefail
fuzztime=${1:-5s}
cd "$(dirname "$0")/.."
found=0
while IFS= read -r file; do
  pkg=./$(dirname "$file")
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
    found=1
    echo "fuzz: $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
  done
done < <(grep -rl --include='*_test.go' -E '^func Fuzz' . | sed 's#^\./##' | sort)
[ "$found" = 1 ] || echo "fuzz: no fuzz targets yet"
