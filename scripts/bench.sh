#!/usr/bin/env bash
# make bench: builds the bench driver and runs it from the repository root.
# The driver builds every helper, a hello-world Go binary and kubelogin
# v1.36.3 (module proxy), runs the measurements against in-process servers on
# 127.0.0.1 and prints one table to stdout (progress goes to stderr).
# Extra arguments go to the driver, e.g.: bash scripts/bench.sh -rounds 100
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .bench
# The bench harness's own test first (minutes; not part of make test).
LANYARD_BENCH_SMOKE=1 go test -count=1 -run '^TestMeasureSmoke$' ./internal/bench/ >&2
go build -o .bench/lanyard-bench ./cmd/lanyard-bench
exec .bench/lanyard-bench -root . -work .bench "$@"
