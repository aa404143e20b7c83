package main

import "errors"

// PluginsCmd lists grant plugins.
type PluginsCmd struct{}

// Run is filled in by the plugin work.
func (c *PluginsCmd) Run() error { return errors.New("not implemented yet") }
