// Package engine is lanyard's one hot path: Token returns a cached token
// when it is fresh, and otherwise takes a per-profile lock, re-reads the
// cache, refreshes or runs the grant, and saves the result atomically.
// Every helper gets its tokens here and nowhere else.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/lanyardhq/lanyard/internal/backchannel"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/discovery"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/store"
)

// Token is the token state the engine hands out.
type Token = store.Token

// Engine obtains, caches and refreshes tokens for profiles.
type Engine struct {
	Store *store.Store
	// Hot holds access tokens for the fast path without a keyring unlock;
	// nil disables it.
	Hot  *store.HotCache
	HTTP *http.Client
	// StateDir holds lock files and the discovery cache; nothing secret.
	StateDir string
	Now      func() time.Time
	Log      *slog.Logger
	// LockTimeout bounds the wait for another process's refresh.
	LockTimeout time.Duration
	Getenv      func(string) string
	// UI is where interactive grants talk to the person: prompts and URLs
	// go here (the tty or stderr), never to stdout.
	UI io.Writer
	// Stdin is read by paste mode when it is not a terminal.
	Stdin io.Reader
	// OnShared, when set, is told of each team-tier operation (open,
	// refresh, put) and its error: the agent's metrics.
	OnShared func(op string, err error)
}

// Options tune one Token call.
type Options struct {
	// MinTTL asks for a token valid at least this long (lanyard token --min-ttl).
	MinTTL time.Duration
	// ForceRefresh ignores the cached access token (after a 401).
	ForceRefresh bool
	// Interactive allows a login that needs a person (browser, prompt).
	// Helpers set it only when the tool says a person is there.
	Interactive bool
}

// New builds an engine from the environment: keyring backend from
// LANYARD_KEYRING_BACKEND, hot cache unless LANYARD_HOT_CACHE=0, passphrase from LANYARD_KEYRING_PASSPHRASE or the
// tty, HTTP timeout from LANYARD_HTTP_TIMEOUT (default 30s). Logs go to
// stderr when debug is set, with tokens redacted.
func New(getenv func(string) string, stderr io.Writer, debug bool) (*Engine, error) {
	vars := env.Env(getenv)
	timeout, err := vars.HTTPTimeout()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(store.Options{
		Backend:    vars.KeyringBackend(),
		FileDir:    vars.KeyringDir(),
		Passphrase: store.Passphrase(getenv),
		SealDir:    filepath.Join(vars.DataDir(), "tokens"),
		Getenv:     getenv,
	})
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.DiscardHandler)
	if debug {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return &Engine{
		Store:       st,
		Hot:         st.Hot(vars.HotDir(), getenv),
		HTTP:        backchannel.Client(timeout),
		StateDir:    vars.StateDir(),
		Now:         time.Now,
		Log:         log,
		LockTimeout: 60 * time.Second,
		Getenv:      getenv,
		UI:          stderr,
		Stdin:       os.Stdin,
	}, nil
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Engine) resolver() *discovery.Resolver {
	return &discovery.Resolver{HTTP: e.HTTP, Dir: filepath.Join(e.StateDir, "discovery"), Now: e.Now}
}

// ResolveSecret returns the secret that ref (the value of key in p) points
// to: the keyring, env:, file: or cmd:.
func (e *Engine) ResolveSecret(ctx context.Context, p *config.Profile, key, ref string) (string, error) {
	return e.secrets(p).Resolve(ctx, p.Name, key, ref)
}

// secrets resolves p's references; its cmd: commands get a child
// environment without the passphrase and other profiles' env: secrets.
func (e *Engine) secrets(p *config.Profile) config.SecretSource {
	return config.SecretSource{Keyring: e.secret, Getenv: e.getenv(), Hide: p.HiddenEnv()}
}

// secret reads a secret stored with lanyard secret set, and says how to
// store it when it is not there. Other errors (a locked or missing
// keyring) carry their own advice: storing the secret again would not help.
func (e *Engine) secret(profile, name string) (string, error) {
	v, err := e.Store.Secret(profile, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w; run: lanyard secret set %s %s", err, profile, name)
	}
	return v, err
}

// SharedSecrets resolves the references of a [shared.NAME] table (key,
// password); its cmd: commands see no profile's env: secrets.
func (e *Engine) SharedSecrets(s *config.SharedTier) config.SecretSource {
	return config.SecretSource{Keyring: e.Store.Secret, Getenv: e.getenv(), Hide: s.HiddenEnv()}
}

func (e *Engine) getenv() func(string) string {
	if e.Getenv == nil {
		return os.Getenv
	}
	return e.Getenv
}
