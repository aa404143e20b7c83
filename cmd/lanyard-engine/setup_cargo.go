package main

import (
	"fmt"
	"os/exec"

	"github.com/lanyardhq/lanyard/helpers/cargo/cargoconfig"
	"github.com/lanyardhq/lanyard/internal/config"
)

// cargoProvider is the credential-provider command setup writes; cargo
// finds it on PATH and adds --cargo-plugin.
const cargoProvider = "cargo-credential-lanyard"

// SetupCargoCmd writes a registry's credential-provider in cargo's
// configuration.
type SetupCargoCmd struct {
	Profile  string `arg:"" help:"Profile name (it must match the registry's index URL)." predictor:"profile"`
	Registry string `required:"" placeholder:"NAME" help:"Registry name, as in [registries.NAME]."`
	Replace  bool   `help:"Replace another credential-provider the registry has."`
}

// Run sets [registries.NAME] credential-provider in $CARGO_HOME/config.toml
// (default ~/.cargo/config.toml), keeping everything else in the file.
// Running it again changes nothing.
func (c *SetupCargoCmd) Run(env *Env, cfg *config.File) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if len(p.Match) == 0 {
		return fmt.Errorf("profile %q has no match list, so the provider would answer for no registry; add match = [\"https://REGISTRY/\"] (the index URL without sparse+) at %s:%d", p.Name, p.File, p.Line)
	}
	path, err := cargoconfig.Path(env.Getenv)
	if err != nil {
		return err
	}
	ch, err := cargoconfig.SetProvider(path, c.Registry, []string{cargoProvider}, c.Replace)
	if err != nil {
		return err
	}
	switch {
	case !ch.Changed:
		fmt.Fprintf(env.Stdout, "%s: [registries.%s] %s already; nothing to do\n", ch.Path, c.Registry, ch.Line)
	case ch.Created:
		fmt.Fprintf(env.Stdout, "%s: created with [registries.%s] %s\n", ch.Path, c.Registry, ch.Line)
	case ch.Was != "":
		fmt.Fprintf(env.Stdout, "%s: set [registries.%s] %s (was %q)\n", ch.Path, c.Registry, ch.Line, ch.Was)
	default:
		fmt.Fprintf(env.Stdout, "%s: added [registries.%s] %s\n", ch.Path, c.Registry, ch.Line)
	}
	fmt.Fprintf(env.Stdout, "cargo now asks lanyard for registry %s; profile %s answers when its match serves the registry's index URL\n", c.Registry, p.Name)
	if _, err := exec.LookPath(cargoProvider); err != nil {
		fmt.Fprintf(env.Stderr, "warning: %s is not on PATH, and cargo will fail to run it; install it (make install) next to lanyard\n", cargoProvider)
	}
	return nil
}
