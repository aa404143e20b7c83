package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/store"
)

// DoctorCmd checks the setup.
type DoctorCmd struct{}

// Run checks the profiles file, the keyring and each profile's endpoints,
// printing one line per check, and fails if any check failed.
func (c *DoctorCmd) Run(ctx context.Context, env *Env) error {
	failed := 0
	check := func(what string, err error) {
		if err != nil {
			failed++
			fmt.Fprintf(env.Stdout, "FAIL  %s: %v\n", what, err)
			return
		}
		fmt.Fprintf(env.Stdout, "ok    %s\n", what)
	}
	path := config.Path(env.Getenv)
	cfg, err := config.Load(path)
	check("profiles file "+path, err)
	eng, err := engine.New(env.Getenv, env.Stderr, env.Debug)
	check("keyring opens", err)
	if cfg == nil || eng == nil {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	first := ""
	if names := cfg.Names(); len(names) > 0 {
		first = names[0]
	}
	health, keyringErr := eng.Store.Check(first, env.Getenv)
	check("keyring "+health.String(), keyringErr)
	for _, n := range cfg.Names() {
		p := cfg.Profiles[n]
		_, err := eng.Cached(p)
		check(fmt.Sprintf("profile %s: keyring readable (%s backend)", n, eng.Store.Backend()), err)
		if p.PluginName() != "" {
			continue
		}
		m, err := eng.Endpoints(ctx, p)
		if err == nil && m.TokenEndpoint == "" {
			err = errors.New("no token endpoint")
		}
		if err == nil {
			err = checkSecret(ctx, eng, p, keyringErr)
		}
		check(fmt.Sprintf("profile %s: endpoints and client secret resolve", n), err)
		for _, c := range eng.CheckClientAuth(ctx, p) {
			check(fmt.Sprintf("profile %s: %s", n, c.What), c.Err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	return nil
}

// checkSecret resolves p's client secret; keyringErr is the keyring
// check's outcome: a secret missing from an unusable keyring is no reason
// to store it again.
func checkSecret(ctx context.Context, eng *engine.Engine, p *config.Profile, keyringErr error) error {
	if p.ClientSecret == "" {
		return nil
	}
	_, err := eng.ResolveSecret(ctx, p, "client_secret", p.ClientSecret)
	if errors.Is(err, store.ErrNotFound) && keyringErr != nil {
		return errors.New("client_secret could not be read: the keyring is not usable; fix what the keyring line says")
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("client_secret is not in the keyring; run: lanyard secret set %s client_secret", p.Name)
	}
	return err
}
