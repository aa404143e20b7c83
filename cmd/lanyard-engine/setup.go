package main

// SetupCmd configures tools to use lanyard's helpers.
type SetupCmd struct {
	Git    SetupGitCmd    `cmd:"" help:"Configure git's credential helper for PROFILE."`
	Docker SetupDockerCmd `cmd:"" help:"Configure docker's credHelpers for PROFILE's registry."`
	Go     SetupGoCmd     `cmd:"" help:"Put lanyard first in the go command's GOAUTH."`
	Pip    SetupPipCmd    `cmd:"" help:"Install keyrings.lanyard (pip and twine credentials) for a Python interpreter."`
}
