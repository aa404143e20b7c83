package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/redact"
)

// runPlugin obtains a token from an external grant plugin. Plugins start
// only here, on the slow path under the profile lock, and are stopped
// before it returns; the token is saved like any other. On failure nothing
// stored is touched.
func (e *Engine) runPlugin(ctx context.Context, p *config.Profile, cached *Token) (*Token, error) {
	state := ""
	if cached != nil && cached.Key == p.CacheKey() {
		// The state belongs to the settings it was minted with.
		state = cached.State
	}
	secrets := e.secrets(p)
	var resolveErr error // already names the profile and the setting
	req := grant.PluginRequest{
		Name:     p.PluginName(),
		Profile:  p.Name,
		SHA256:   p.PluginSHA256,
		Settings: p.Plugin,
		State:    state,
		Resolve: func(ctx context.Context, key, value string) (string, bool, error) {
			if !config.IsSecretRef(value) {
				return value, false, nil
			}
			v, err := secrets.Resolve(ctx, p.Name, key, value)
			resolveErr = err
			return v, true, err
		},
	}
	start := e.now()
	e.log().Debug("running grant plugin", "profile", p.Name, "plugin", req.Name, "pinned", req.SHA256 != "", "has_state", state != "")
	host := e.PluginHost()
	host.Env = config.ChildEnv(os.Environ(), p.HiddenEnv()...)
	t, err := host.Token(ctx, req)
	if err != nil {
		if resolveErr != nil && errors.Is(err, resolveErr) {
			return nil, err
		}
		var se *grant.PluginSettingError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("profile %q: %w; fix [profiles.%s.plugin] in %s:%d", p.Name, err, p.Name, p.File, p.Line)
		}
		return nil, fmt.Errorf("profile %q: %w", p.Name, err)
	}
	e.log().Debug("grant plugin answered", "profile", p.Name, "plugin", req.Name, "took", e.now().Sub(start), "access_token", redact.Secret(t.AccessToken), "expiry", t.Expiry)
	return e.save(p, t, "")
}

// PluginHost returns the plugin runner this engine uses (see NewPluginHost).
func (e *Engine) PluginHost() *grant.PluginHost {
	getenv := e.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var stderr io.Writer = io.Discard
	if e.UI != nil {
		stderr = e.UI
	}
	h := NewPluginHost(getenv, stderr, e.log().Enabled(context.Background(), slog.LevelDebug))
	h.Now = e.Now
	return h
}

// NewPluginHost configures a plugin runner from the environment: search
// path $XDG_DATA_HOME/lanyard/plugins then $PATH, timeout
// LANYARD_PLUGIN_TIMEOUT (default 30s), plugin logs to stderr (warnings,
// and everything with debug). lanyard plugins uses it without a keyring.
func NewPluginHost(getenv func(string) string, stderr io.Writer, debug bool) *grant.PluginHost {
	timeout, err := env.Env(getenv).PluginTimeout()
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v; using %s\n", err, grant.DefaultPluginTimeout)
		timeout = grant.DefaultPluginTimeout
	}
	return &grant.PluginHost{
		Dirs:      PluginSearchPath(getenv),
		HostPaths: pluginHostPaths(getenv),
		Timeout:   timeout,
		Stderr:    stderr,
		Debug:     debug,
	}
}

// pluginHostPaths lists where lanyard-plugin-host may be: $LANYARD_PLUGIN_HOST
// (which must be absolute, see grant.PluginHost.HostPaths), else next to
// the running binary (make install puts them together). Never $PATH: the
// host runs with the plugins' secrets, and a directory early on PATH must
// not be able to supply it.
func pluginHostPaths(getenv func(string) string) []string {
	if v := env.Env(getenv).PluginHost(); v != "" {
		return []string{v}
	}
	if exe, err := os.Executable(); err == nil {
		return []string{filepath.Join(filepath.Dir(exe), grant.PluginHostName)}
	}
	return nil
}

// PluginSearchPath is where lanyard looks for lanyard-grant-NAME, in order.
func PluginSearchPath(getenv func(string) string) []string {
	return grant.PluginDirs(env.Env(getenv).DataDir(), getenv("PATH"))
}
