package main

// SetupCmd configures tools to use lanyard's helpers.
type SetupCmd struct {
	Git    SetupGitCmd    `cmd:"" help:"Configure git's credential helper for PROFILE."`
	Docker SetupDockerCmd `cmd:"" help:"Configure docker's credHelpers for PROFILE's registry."`
	Mcp    SetupMcpCmd    `cmd:"" help:"Print the MCP client config snippet that runs lanyard mcp URL."`
}
