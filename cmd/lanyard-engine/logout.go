package main

import (
	"context"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// LogoutCmd forgets a profile's tokens.
type LogoutCmd struct {
	Profile string `arg:"" help:"Profile name." predictor:"profile"`
	Revoke  bool   `help:"Revoke the tokens at the server first (RFC 7009); for a shared profile, the team record's refresh and access tokens."`
}

// Run deletes the stored tokens; client secrets stay (lanyard secret rm).
func (c *LogoutCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if err := eng.Logout(ctx, p, c.Revoke); err != nil {
		return err
	}
	forgetInAgent(ctx, env, p.Name)
	fmt.Fprintf(env.Stderr, "lanyard: logged out of %s\n", p.Name)
	return nil
}
