package main

import "errors"

// SetupDockerCmd writes docker's credHelpers entry.
type SetupDockerCmd struct {
	Profile string `arg:"" help:"Profile name."`
}

// Run is filled in by the docker helper work.
func (c *SetupDockerCmd) Run() error { return errors.New("not implemented yet") }
