package main

import "errors"

// SetupGitCmd writes git config for git-credential-lanyard.
type SetupGitCmd struct {
	Profile string `arg:"" help:"Profile name."`
}

// Run is filled in by the git helper work.
func (c *SetupGitCmd) Run() error { return errors.New("not implemented yet") }
