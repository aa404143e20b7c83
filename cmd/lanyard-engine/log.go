package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lanyardhq/lanyard/internal/audit"
	envpkg "github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/grant"
)

// LogCmd shows the audit log (docs/agent.md, "Sandboxes and containers").
type LogCmd struct {
	Follow  bool          `short:"f" help:"Keep printing events as they are written, until interrupted."`
	Profile string        `help:"Only events of this profile."`
	Since   time.Duration `help:"Only events of the last DURATION (e.g. 1h)."`
	JSON    bool          `name:"json" help:"One JSON object per line, as stored."`
}

// Run prints the audit events the flags select.
func (c *LogCmd) Run(ctx context.Context, env *Env) error {
	if c.Since < 0 {
		return fmt.Errorf("--since %s: give a positive duration such as 1h", c.Since)
	}
	path := envpkg.Env(env.Getenv).AuditPath()
	f := audit.Filter{Profile: c.Profile}
	if c.Since > 0 {
		f.Since = time.Now().Add(-c.Since)
	}
	enc := json.NewEncoder(env.Stdout)
	show := func(e audit.Event) error {
		// The log is a file anyone with our uid could write: filter it
		// before it reaches a terminal.
		e = e.Clean(grant.Printable)
		if c.JSON {
			return enc.Encode(e)
		}
		_, err := fmt.Fprintln(env.Stdout, e.Text())
		return err
	}
	offset, err := audit.Read(path, f, show)
	if err != nil {
		return err
	}
	if !c.Follow {
		return nil
	}
	return audit.Follow(ctx, path, offset, 200*time.Millisecond, f, show)
}
