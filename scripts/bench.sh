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
status=0
.bench/lanyard-bench -root . -work .bench "$@" || status=$?

# lanyard mcp next to npm's mcp-remote (pinned in helpers/mcp/testdata/bench):
# reported figures, not targets (docs/mcp.md, "Compared with mcp-remote").
if command -v node >/dev/null && command -v npm >/dev/null; then
  echo "--- lanyard mcp vs mcp-remote (about 90 s)" >&2
  for d in helpers/mcp/testdata/node helpers/mcp/testdata/bench; do
    [ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >&2)
  done
  echo
  echo "lanyard mcp vs mcp-remote"
  LANYARD_BENCH_MCP=1 go test ./helpers/mcp -run '^TestCompareMCPRemote$' -count=1 -v | grep '^|' || status=1
else
  echo "lanyard mcp vs mcp-remote: skipped (needs node and npm)" >&2
fi
exit "$status"
