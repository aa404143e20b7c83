package main

import (
	"context"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/front"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"golang.org/x/term"
)

// TokenCmd prints a fresh token.
type TokenCmd struct {
	Profile      string        `arg:"" help:"Profile name." predictor:"profile"`
	Format       string        `enum:"raw,json,header,env" default:"raw" help:"Output: raw token, json {access_token,token_type,expires_at,profile}, header (Authorization: Bearer ...), env (LANYARD_TOKEN=...)."`
	MinTTL       time.Duration `name:"min-ttl" help:"Refresh unless the token stays valid this long."`
	ForceRefresh bool          `help:"Ignore the cached access token (after the API answered 401)."`
	URL          string        `name:"url" placeholder:"URL" help:"The URL the token is for (the HTTPie plugin passes the request's): answer only when the profile's match serves it."`
}

// TokenJSON is the stable --format json contract.
type TokenJSON = front.TokenJSON

// Run prints the token in the chosen format.
func (c *TokenCmd) Run(ctx context.Context, env *Env, cfg *config.File, eng *engine.Engine) error {
	p, err := cfg.Profile(c.Profile)
	if err != nil {
		return err
	}
	if c.URL != "" {
		// Before any token is fetched: a URL outside the profile's match
		// (another host, plain http) never gets one.
		if err := p.Serves(c.URL); err != nil {
			return err
		}
	}
	t, err := eng.Token(ctx, p, engine.Options{MinTTL: c.MinTTL, ForceRefresh: c.ForceRefresh, Interactive: interactive()})
	if err != nil {
		return err
	}
	return writeToken(env, c.Format, p, t)
}

func writeToken(env *Env, format string, p *config.Profile, t *engine.Token) error {
	typ := t.TokenType
	if typ == "" || p.UseIDToken() {
		typ = "Bearer"
	}
	return front.WriteToken(env.Stdout, format, engine.Value(t, p), typ, engine.Expiry(t, p), p.Name)
}

// interactive reports whether a person can answer a login: stdin or stderr
// is a terminal. In CI neither is, and logins fail fast with the command.
func interactive() bool {
	return term.IsTerminal(0) || term.IsTerminal(2)
}
