package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// StatusCmd shows cached tokens.
type StatusCmd struct {
	Profile string `arg:"" optional:"" help:"Only this profile." predictor:"profile"`
	JSON    bool   `name:"json" help:"Print JSON."`
}

// ProfileStatus is one row of lanyard status.
type ProfileStatus struct {
	Profile         string     `json:"profile"`
	Grant           string     `json:"grant"`
	Expiry          *time.Time `json:"expiry,omitempty"`
	Fresh           bool       `json:"fresh"`
	HasRefreshToken bool       `json:"has_refresh_token"`
	ExpiryGuessed   bool       `json:"expiry_guessed,omitempty"`
	// IssuedTokenType is what a token exchange issued (RFC 8693).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	Error           string `json:"error,omitempty"`
}

// Run prints the table (or JSON); it makes no network call.
func (c *StatusCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	names := cfg.Names()
	if c.Profile != "" {
		if _, err := cfg.Profile(c.Profile); err != nil {
			return err
		}
		names = []string{c.Profile}
	}
	rows := make([]ProfileStatus, 0, len(names))
	for _, n := range names {
		p := cfg.Profiles[n]
		row := ProfileStatus{Profile: n, Grant: p.Grant}
		t, err := eng.Cached(p)
		switch {
		case err != nil:
			row.Error = err.Error()
		case t != nil:
			exp := engine.Expiry(t, p)
			if !exp.IsZero() && engine.Value(t, p) != "" {
				row.Expiry = &exp
			}
			row.Fresh = eng.Fresh(t, p)
			row.HasRefreshToken = t.RefreshToken != "" && t.Key == p.CacheKey()
			row.ExpiryGuessed = t.ExpiryGuessed
			if t.Key == p.CacheKey() {
				row.IssuedTokenType = t.IssuedTokenType
			}
		}
		rows = append(rows, row)
	}
	if c.JSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PROFILE\tGRANT\tTOKEN EXPIRES\tREFRESH TOKEN")
	for _, r := range rows {
		exp := "-"
		switch {
		case r.Error != "":
			exp = "error: " + r.Error
		case r.Expiry != nil:
			exp = r.Expiry.Local().Format(time.RFC3339)
			if !r.Fresh {
				exp += " (stale)"
			}
			if r.ExpiryGuessed {
				exp += " (server gave no lifetime; assumed 5m)"
			}
		}
		rt := "no"
		if r.HasRefreshToken {
			rt = "yes"
		}
		g := r.Grant
		if r.IssuedTokenType != "" {
			g += " (issued " + r.IssuedTokenType + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Profile, g, exp, rt)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// The agent: pid, uptime, socket, and what it holds per profile.
	fmt.Fprintln(env.Stdout)
	st, err := agentStatus(ctx, env)
	if err != nil {
		fmt.Fprintf(env.Stdout, "agent: %v\n", err)
		return nil
	}
	printAgentStatus(env.Stdout, st, env.Getenv)
	return nil
}
