package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/shared"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// SharedResetCmd clears a shared record that cannot be used: one that does
// not open under the team key, or one older than this machine has seen.
type SharedResetCmd struct {
	Profile string `arg:"" help:"Profile name (its table names shared = \"NAME\")." predictor:"profile"`
	Yes     bool   `help:"Do not ask for confirmation."`
}

// Run replaces the record with a tombstone under the team lock, after the
// user confirms by typing the profile name (or passes --yes). Every machine
// of the team then needs a login.
func (c *SharedResetCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if p.SharedTier == nil {
		return fmt.Errorf("profile %q has no shared key in %s:%d; shared reset is for profiles with shared = \"NAME\"", p.Name, p.File, p.Line)
	}
	if !c.Yes {
		if err := confirmReset(env, p); err != nil {
			return err
		}
	}
	tier, err := shared.Open(ctx, p.SharedTier, sharedOptions(eng, env.Getenv, eng.SharedSecrets(p.SharedTier)))
	if err != nil {
		return err
	}
	defer tier.Close()
	ver, err := tier.Reset(ctx, p.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "lanyard: the shared record of %s in %s is cleared (version %d); run: lanyard login %s\n", p.Name, p.SharedTier.Table(), ver, p.Name)
	return nil
}

// confirmReset asks on the terminal (stdin and stderr) for the profile
// name; without a terminal it asks for --yes instead of waiting.
func confirmReset(env *Env, p *config.Profile) error {
	f, ok := env.Stdin.(*os.File)
	if !ok || !tty.IsTerminal(f) {
		return fmt.Errorf("shared reset discards the team's login of %s in %s; no terminal to confirm on: run lanyard shared reset %s --yes", p.Name, p.SharedTier.Table(), p.Name)
	}
	fmt.Fprintf(env.Stderr, "This discards the shared record of %s in %s: every machine of the team must log in again.\nType the profile name to confirm: ", p.Name, p.SharedTier.Table())
	answer, _ := bufio.NewReader(f).ReadString('\n')
	if strings.TrimSpace(answer) != p.Name {
		return fmt.Errorf("not confirmed; nothing was changed")
	}
	return nil
}
