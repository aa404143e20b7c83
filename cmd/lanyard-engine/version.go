package main

import "fmt"

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints the version.
func (c *VersionCmd) Run(env *Env) error {
	_, err := fmt.Fprintf(env.Stdout, "lanyard %s\n", version)
	return err
}
