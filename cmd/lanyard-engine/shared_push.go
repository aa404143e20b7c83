package main

import (
	"context"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// SharedPushCmd moves a local login into the team tier.
type SharedPushCmd struct {
	Profile string `arg:"" help:"Profile name (its table names shared = \"NAME\")."`
}

// Run stores the local token state in the tier and keeps only the access
// token locally.
func (c *SharedPushCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if _, err := eng.Push(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "lanyard: %s's tokens are now in %s; this machine keeps only the access token\n", p.Name, p.SharedTier.Table())
	return nil
}
