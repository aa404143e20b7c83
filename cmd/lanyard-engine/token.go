package main

import (
	"context"
	"time"

	"github.com/lanyardhq/lanyard/helpers/token"
)

// TokenCmd prints a fresh token.
type TokenCmd struct {
	Profile      string        `arg:"" help:"Profile name." predictor:"profile"`
	Format       string        `enum:"raw,json,header,env" default:"raw" help:"Output: raw token, json {access_token,token_type,expires_at,profile}, header (Authorization: Bearer ...), env (LANYARD_TOKEN=...)."`
	MinTTL       time.Duration `name:"min-ttl" help:"Refresh unless the token stays valid this long."`
	ForceRefresh bool          `help:"Ignore the cached access token (after the API answered 401)."`
	URL          string        `name:"url" placeholder:"URL" help:"The URL the token is for (the HTTPie plugin passes the request's): answer only when the profile's match serves it."`
}

// Run prints the token in the chosen format, asking the agent as every
// tool does (helpers/token).
func (c *TokenCmd) Run(ctx context.Context, env *Env) error {
	a := token.Args{Profile: c.Profile, Format: c.Format, MinTTL: c.MinTTL, ForceRefresh: c.ForceRefresh, URL: c.URL}
	interactive := env.caller().CanPrompt()
	if code := token.Run(ctx, a, interactive, env.Stdout, env.Stderr, resolver(env)); code != 0 {
		return &exitCodeError{Code: code}
	}
	return nil
}
