package main

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/lanyardhq/lanyard/helpers/goauth"
	"github.com/lanyardhq/lanyard/internal/config"
)

// SetupGoCmd puts lanyard first in the go command's GOAUTH.
type SetupGoCmd struct {
	Profile string `arg:"" help:"Profile name (checked; the GOAUTH entry serves every profile by its match)." predictor:"profile"`
	Write   bool   `help:"Run go env -w instead of printing it."`
}

// Run prints, and with --write runs, go env -w GOAUTH='lanyard goauth;...',
// keeping the GOAUTH methods already configured after lanyard's.
func (c *SetupGoCmd) Run(ctx context.Context, env *Env, cfg *config.File) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if len(p.Match) == 0 {
		return fmt.Errorf("profile %q has no match list, so lanyard goauth would never answer for it; add match = [\"https://PROXY/PATH/\"] (your GOPROXY URL or module host) at %s:%d", p.Name, p.File, p.Line)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is not on PATH: %w", err)
	}
	r, err := goauth.Setup(ctx, goBin, c.Write, env.Getenv)
	if err != nil {
		return err
	}
	r.Report(env.Stdout, p.Name, c.Write)
	if r.EnvOverride {
		fmt.Fprintf(env.Stderr, "note: GOAUTH is set in your environment, which overrides go env -w; set GOAUTH=%s there instead\n", goauth.ShellQuote(r.Value))
	}
	fmt.Fprintf(env.Stdout, "the go command then gets %s's token for %v after a server refuses it\n", p.Name, p.Match)
	return nil
}
