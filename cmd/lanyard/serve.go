package main

import "errors"

// ServeCmd serves tokens on loopback for GUI tools.
type ServeCmd struct{}

// Run is filled in by the Postman work.
func (c *ServeCmd) Run() error { return errors.New("not implemented yet") }
