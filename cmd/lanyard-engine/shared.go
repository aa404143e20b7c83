package main

import (
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/shared"
)

// SharedCmd groups the team tier commands.
type SharedCmd struct {
	Init   SharedInitCmd   `cmd:"" help:"Make a team key for [shared.NAME], store it in the keyring and print what teammates and CI need."`
	Status SharedStatusCmd `cmd:"" help:"Show the shared records of [shared.NAME]: expiries, lock holder, last refresh and by whom."`
	Push   SharedPushCmd   `cmd:"" help:"Move PROFILE's local login into its team tier."`
	Reset  SharedResetCmd  `cmd:"" help:"Clear PROFILE's shared record when it cannot be used (does not open, or was rolled back); everyone logs in again."`
}

// sharedOptions are the options every team tier of this binary opens
// with: the engine's log and clock, and the state directory, which keeps
// the versions this machine has seen (rollback refusal).
func sharedOptions(eng *engine.Engine, getenv func(string) string, secrets config.SecretSource) shared.Options {
	return shared.Options{Secrets: secrets, Log: eng.Log, Now: eng.Now, Getenv: getenv, StateDir: eng.StateDir}
}

// sharedTable returns the [shared.NAME] table or an error naming the known ones.
func sharedTable(cfg *config.File, name string) (*config.SharedTier, error) {
	if s, ok := cfg.Shared[name]; ok {
		return s, nil
	}
	known := ""
	for n := range cfg.Shared {
		known += " " + n
	}
	if known == "" {
		return nil, fmt.Errorf("%s has no [shared.%s] table; add one (see docs/shared.md): %w", cfg.Path, name, config.ErrNoProfile)
	}
	return nil, fmt.Errorf("%s has no [shared.%s] table (known:%s): %w", cfg.Path, name, known, config.ErrNoProfile)
}
