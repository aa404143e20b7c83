package main

import (
	"fmt"

	"github.com/lanyardhq/lanyard/helpers/mcp"
	"github.com/lanyardhq/lanyard/internal/mcpauth"
)

// SetupMcpCmd prints the configuration snippet MCP clients take for a
// stdio server, running lanyard mcp URL.
type SetupMcpCmd struct {
	URL     string `arg:"" help:"The MCP server's Streamable HTTP endpoint."`
	Profile string `help:"Profile whose tokens the server gets." predictor:"profile"`
	Name    string `help:"The server's name in the client's config (default: from the URL's host)."`
}

// Run prints the snippet on stdout and where it goes on stderr.
func (c *SetupMcpCmd) Run(env *Env) error {
	u, err := mcpauth.ServerURL(c.URL)
	if err != nil {
		return err
	}
	name := c.Name
	if name == "" {
		name = mcpauth.ServerName(u)
	}
	args := []string{"mcp", u.String()}
	if c.Profile != "" {
		args = append(args, "--profile", c.Profile)
	}
	out, err := mcp.ClientConfig(name, "lanyard", args)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, string(out))
	if c.Profile == "" {
		fmt.Fprintf(env.Stderr, "lanyard: without --profile, lanyard mcp uses profile %q, which it makes on its first start from the server's 401 (it registers a public client and opens the browser to log in; headless: run lanyard login %s once it exists)\n", mcpauth.ProfileName(u), mcpauth.ProfileName(u))
	}
	fmt.Fprintln(env.Stderr, `lanyard: add the "mcpServers" entry to your client's config: Claude Desktop claude_desktop_config.json, Cursor ~/.cursor/mcp.json, Windsurf ~/.codeium/windsurf/mcp_config.json; VS Code .vscode/mcp.json takes the same entry under "servers". Use the full path of lanyard if the client does not search PATH.`)
	return nil
}
