package main

// SetupCmd configures tools to use lanyard's helpers.
type SetupCmd struct {
	Git       SetupGitCmd       `cmd:"" help:"Configure git's credential helper for PROFILE."`
	Docker    SetupDockerCmd    `cmd:"" help:"Configure docker's credHelpers for PROFILE's registry."`
	Cargo     SetupCargoCmd     `cmd:"" help:"Configure cargo's credential-provider for a registry PROFILE serves."`
	Terraform SetupTerraformCmd `cmd:"" help:"Install the Terraform/OpenTofu credentials helper and enable it in the CLI configuration."`
	Go        SetupGoCmd        `cmd:"" help:"Put lanyard first in the go command's GOAUTH."`
	Pip       SetupPipCmd       `cmd:"" help:"Install keyrings.lanyard (pip and twine credentials) for a Python interpreter."`
	Mcp       SetupMcpCmd       `cmd:"" help:"Print the MCP client config snippet that runs lanyard mcp URL."`
}
