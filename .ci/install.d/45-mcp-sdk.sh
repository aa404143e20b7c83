# Sourced by .ci/run: the official MCP TypeScript SDK (@modelcontextprotocol/sdk,
# pinned by helpers/mcp/testdata/node/package-lock.json) for lanyard mcp's
# end-to-end tests: its Streamable HTTP server and its stdio client.
# npm comes from 10-e2e-tools.sh. Reinstalled only when the lockfile changes.
mcp_sdk_dir=helpers/mcp/testdata/node
mcp_sdk_stamp="$mcp_sdk_dir/node_modules/.lanyard-lock.sha256"
mcp_sdk_want=$(sha256sum "$mcp_sdk_dir/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$mcp_sdk_stamp" ] || [ "$(cat "$mcp_sdk_stamp")" != "$mcp_sdk_want" ]; then
  (cd "$mcp_sdk_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$mcp_sdk_want" > "$mcp_sdk_stamp"
fi
