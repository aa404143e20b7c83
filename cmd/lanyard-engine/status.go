package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// StatusCmd shows cached tokens.
type StatusCmd struct {
	Profile string `arg:"" optional:"" help:"Only this profile." predictor:"profile"`
	Format  string `enum:"table,json" default:"table" help:"table (relative times, for people) or json (absolute times, for scripts)."`
	JSON    bool   `name:"json" hidden:"" help:"Same as --format json."`
}

// ProfileStatus is one row of lanyard status.
type ProfileStatus struct {
	Profile         string     `json:"profile"`
	Grant           string     `json:"grant"`
	Expiry          *time.Time `json:"expiry,omitempty"`
	Fresh           bool       `json:"fresh"`
	HasRefreshToken bool       `json:"has_refresh_token"`
	// RefreshRotates is whether the last refresh returned a new refresh
	// token; absent before the first refresh.
	RefreshRotates *bool      `json:"refresh_rotates,omitempty"`
	LastRefresh    *time.Time `json:"last_refresh,omitempty"`
	Obtained       *time.Time `json:"obtained,omitempty"`
	// LoginRequired: without a usable token, the next use needs lanyard login.
	LoginRequired bool `json:"login_required"`
	ExpiryGuessed bool `json:"expiry_guessed,omitempty"`
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
		t, err := eng.Cached(p)
		rows = append(rows, profileStatus(p, t, err, eng.Fresh))
	}
	if c.JSON || c.Format == "json" {
		return writeStatusJSON(env.Stdout, rows)
	}
	if err := writeStatusTable(env.Stdout, time.Now(), rows); err != nil {
		return err
	}
	if err := writePrefixes(env.Stdout, cfg, names); err != nil {
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

// profileStatus turns what the store holds for p into a status row.
func profileStatus(p *config.Profile, t *engine.Token, err error, fresh func(*engine.Token, *config.Profile) bool) ProfileStatus {
	row := ProfileStatus{Profile: p.Name, Grant: p.Grant}
	if err != nil {
		row.Error = err.Error()
		return row
	}
	current := t != nil && t.Key == p.CacheKey()
	if t != nil {
		exp := engine.Handout(t, p).Expiry
		if !exp.IsZero() && engine.Handout(t, p).Value != "" {
			row.Expiry = &exp
		}
		row.Fresh = fresh(t, p)
		row.ExpiryGuessed = t.ExpiryGuessed
	}
	if current {
		row.HasRefreshToken = t.RefreshToken != ""
		row.IssuedTokenType = t.IssuedTokenType
		if !t.Obtained.IsZero() {
			row.Obtained = &t.Obtained
		}
		if !t.LastRefresh.IsZero() {
			row.LastRefresh = &t.LastRefresh
			row.RefreshRotates = &t.RefreshRotates
		}
	}
	row.LoginRequired = !row.HasRefreshToken && p.Interactive()
	return row
}
