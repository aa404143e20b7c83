package main

import "github.com/lanyardhq/lanyard/helpers/kubectl/full"

// KubectlPluginCmd runs kubectl-lanyard in-process, for what the thin
// plugin passes on (kubectl lanyard setup).
type KubectlPluginCmd struct {
	Args []string `arg:"" optional:"" passthrough:"" help:"kubectl-lanyard's arguments."`
}

// Run runs kubectl-lanyard with the same arguments and exit code.
func (c *KubectlPluginCmd) Run(env *Env) error {
	if code := full.Main(c.Args, env.Stdin, env.Stdout, env.Stderr, env.Getenv); code != 0 {
		return &exitCodeError{Code: code}
	}
	return nil
}
