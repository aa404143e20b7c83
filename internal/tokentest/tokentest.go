// Package tokentest changes the token state lanyard keeps, for end-to-end
// tests that must not wait out a token's lifetime. Test code only.
package tokentest

import (
	"io"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// SetExpiry makes the cached token of profile in env expire at exp, while
// the server still honours it, and makes env's agent forget what it holds,
// so every helper sees the new expiry. It returns the token as it was.
func SetExpiry(tb testing.TB, env *testbin.Env, profile string, exp time.Time) *engine.Token {
	tb.Helper()
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := engine.New(env.Getenv, io.Discard, false)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := eng.Cached(cfg.Profiles[profile])
	if err != nil || tok == nil {
		tb.Fatalf("no cached token for %s: %v", profile, err)
	}
	old := *tok
	tok.Expiry = exp
	if err := eng.Store.SaveToken(profile, tok); err != nil {
		tb.Fatal(err)
	}
	env.ForgetAgent(tb)
	return &old
}

// Seed stores tok as profile's cached token in env, bound to the profile's
// current settings (its cache key), obtained now unless tok says when.
func Seed(tb testing.TB, env *testbin.Env, profile string, tok *engine.Token) {
	tb.Helper()
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		tb.Fatal(err)
	}
	p, ok := cfg.Profiles[profile]
	if !ok {
		tb.Fatalf("no profile %s in %s", profile, env.ConfigPath)
	}
	eng, err := engine.New(env.Getenv, io.Discard, false)
	if err != nil {
		tb.Fatal(err)
	}
	tok.Key = p.CacheKey()
	if tok.Obtained.IsZero() {
		tok.Obtained = time.Now()
	}
	if err := eng.Store.SaveToken(profile, tok); err != nil {
		tb.Fatal(err)
	}
}
