package grant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lanyardhq/lanyard/plugin"
)

// PluginPrefix starts the file name of every grant plugin: grant =
// "plugin:NAME" runs lanyard-grant-NAME.
const PluginPrefix = "lanyard-grant-"

// DefaultPluginTimeout bounds one plugin run (start, Describe, Token) when
// PluginHost.Timeout is zero.
const DefaultPluginTimeout = 30 * time.Second

var pluginNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// PluginHost finds grant plugins and runs them: one process per call,
// stopped when the call returns.
type PluginHost struct {
	// Dirs are searched in order for lanyard-grant-NAME (see PluginDirs).
	Dirs []string
	// Timeout bounds one run: start, Describe and Token together.
	Timeout time.Duration
	// Stderr receives the plugins' logs: warnings and errors always,
	// everything (and go-plugin's own log) when Debug is set.
	Stderr io.Writer
	Debug  bool
	Now    func() time.Time
}

// PluginDirs returns the plugin search path: dataDir/plugins
// ($XDG_DATA_HOME/lanyard/plugins), then the absolute entries of path
// ($PATH). Relative PATH entries are skipped, as exec.LookPath refuses them.
func PluginDirs(dataDir, path string) []string {
	dirs := []string{filepath.Join(dataDir, "plugins")}
	for _, d := range filepath.SplitList(path) {
		if filepath.IsAbs(d) && !slices.Contains(dirs, filepath.Clean(d)) {
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	return dirs
}

// PluginFile is a plugin binary found on the search path.
type PluginFile struct {
	Name string
	Path string
	// ShadowedBy is the path of the plugin of the same name that comes
	// first on the search path and is the one lanyard runs; "" for that one.
	ShadowedBy string
}

// CheckPluginName rejects plugin names that could leave the search path.
func CheckPluginName(name string) error {
	if !pluginNameRE.MatchString(name) {
		return fmt.Errorf("plugin name %q is not valid: use letters, digits, '.', '_' and '-' (the binary is %sNAME)", name, PluginPrefix)
	}
	return nil
}

// Find returns the path of lanyard-grant-NAME: the first executable file of
// that name in Dirs.
func (h *PluginHost) Find(name string) (string, error) {
	if err := CheckPluginName(name); err != nil {
		return "", err
	}
	file := PluginPrefix + name
	for _, d := range h.Dirs {
		p := filepath.Join(d, file)
		if isExecutable(p) {
			return p, nil
		}
	}
	where := "PATH"
	if len(h.Dirs) > 0 {
		where = h.Dirs[0] + " or on PATH"
	}
	return "", fmt.Errorf("grant plugin %q not found: no executable %s in %s; install it there (lanyard plugins lists the plugins found)", name, file, where)
}

// List returns every plugin binary on the search path, sorted by name, the
// one lanyard runs first within a name.
func (h *PluginHost) List() []PluginFile {
	var out []PluginFile
	used := map[string]string{}
	for _, d := range h.Dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), PluginPrefix)
			if !ok || CheckPluginName(name) != nil {
				continue
			}
			p := filepath.Join(d, e.Name())
			if !isExecutable(p) {
				continue
			}
			f := PluginFile{Name: name, Path: p, ShadowedBy: used[name]}
			if f.ShadowedBy == "" {
				used[name] = p
			}
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// FileSHA256 returns the hex SHA-256 of the file at path, the value a
// profile's plugin_sha256 pins.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// PluginRequest is one Token call to a plugin.
type PluginRequest struct {
	// Name is NAME of grant = "plugin:NAME".
	Name string
	// Profile names the profile in messages.
	Profile string
	// SHA256 pins the binary (plugin_sha256); "" runs whatever is found.
	SHA256 string
	// Settings is the profile's [profiles.X.plugin] table as written:
	// values may be secret references.
	Settings map[string]string
	// State is what the plugin returned last time for the same settings.
	State string
	// Resolve returns the value a setting stands for: a secret reference
	// (file:, env:, cmd:, keyring) resolved, with secret = true, or the
	// value itself. The host calls it for every setting before the plugin
	// starts, so plugins never resolve references themselves.
	Resolve func(ctx context.Context, key, value string) (resolved string, secret bool, err error)
}

// Token runs the plugin once: find it, check its pin, resolve the secret
// settings, start it, Describe, check the settings against its schema,
// Token, stop it. The result is not saved: that is the engine's job.
func (h *PluginHost) Token(ctx context.Context, req PluginRequest) (*Token, error) {
	path, err := h.Find(req.Name)
	if err != nil {
		return nil, err
	}
	settings := make(map[string]string, len(req.Settings))
	refs := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(req.Settings)) {
		v := req.Settings[k]
		if req.Resolve != nil {
			r, secret, err := req.Resolve(ctx, k, v)
			if err != nil {
				return nil, err
			}
			v, refs[k] = r, secret
		}
		settings[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	g, stop, err := h.start(ctx, req.Name, path, req.SHA256)
	if err != nil {
		return nil, err
	}
	defer stop()
	return h.call(ctx, g, req, settings, refs)
}

// Describe starts the plugin at path, asks for its description and stops
// it. A non-empty pin is checked first, as for Token.
func (h *PluginHost) Describe(ctx context.Context, name, path, pin string) (*plugin.Description, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	g, stop, err := h.start(ctx, name, path, pin)
	if err != nil {
		return nil, err
	}
	defer stop()
	d, err := g.Describe(ctx)
	if err != nil {
		return nil, h.explain(ctx, name, "Describe", err)
	}
	return d, nil
}

// call is the part of a run after the process is up; tests drive it over
// go-plugin's in-process gRPC connection.
func (h *PluginHost) call(ctx context.Context, g plugin.Grant, req PluginRequest, settings map[string]string, refs map[string]bool) (*Token, error) {
	name := req.Name
	d, err := g.Describe(ctx)
	if err != nil {
		return nil, h.explain(ctx, name, "Describe", err)
	}
	if err := checkSettings(req, d, settings, refs); err != nil {
		return nil, err
	}
	pt, err := g.Token(ctx, settings, req.State)
	if err != nil {
		return nil, h.explain(ctx, name, "Token", err)
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	t := &Token{
		AccessToken: pt.AccessToken,
		TokenType:   normalizeType(pt.TokenType),
		IDToken:     pt.Extra["id_token"],
		Expiry:      pt.Expiry,
		State:       pt.State,
	}
	if sc := strings.Fields(pt.Extra["scope"]); len(sc) > 0 {
		t.Scope = sc
	}
	switch {
	case t.Expiry.IsZero():
		t.Expiry, t.ExpiryGuessed = now().Add(DefaultLifetime), true
	case !t.Expiry.After(now()):
		return nil, fmt.Errorf("grant plugin %q returned a token that expired at %s (now %s); check the clocks of this machine and the plugin's API", name, t.Expiry.UTC().Format(time.RFC3339), now().UTC().Format(time.RFC3339))
	}
	return t, nil
}

// checkSettings holds the profile's settings against the plugin's schema,
// before anything is sent: required ones present, no unknown ones (typos),
// secret ones written as references.
func checkSettings(req PluginRequest, d *plugin.Description, settings map[string]string, refs map[string]bool) error {
	name, profile := req.Name, req.Profile
	if profile == "" {
		profile = "PROFILE"
	}
	if len(d.Settings) == 0 {
		return nil
	}
	known := make([]string, 0, len(d.Settings))
	for _, s := range d.Settings {
		known = append(known, s.Name)
		v, ok := settings[s.Name]
		switch {
		case s.Required && (!ok || v == ""):
			msg := fmt.Sprintf("missing; plugin %s needs it", name)
			if s.Description != "" {
				msg += " (" + s.Description + ")"
			}
			return &plugin.SettingError{Setting: s.Name, Msg: msg}
		case s.Secret && ok && !refs[s.Name]:
			return &plugin.SettingError{Setting: s.Name, Msg: `is a secret: write a reference, not the secret itself: "file:PATH", "env:NAME", "cmd:COMMAND" or "keyring" (then: lanyard secret set ` + profile + " " + s.Name + ")"}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if !slices.Contains(known, k) {
			return &plugin.SettingError{Setting: k, Msg: fmt.Sprintf("plugin %s does not know it; it reads %s", name, strings.Join(known, ", "))}
		}
	}
	return nil
}

// start runs the plugin binary and connects to it. The process dies with
// ctx; stop kills it in any case.
func (h *PluginHost) start(ctx context.Context, name, path, pin string) (plugin.Grant, func(), error) {
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake,
		Plugins:          plugin.PluginMap,
		Cmd:              exec.CommandContext(ctx, path),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           h.logger(),
		StartTimeout:     h.timeout(),
	}
	if dl, ok := ctx.Deadline(); ok {
		cfg.StartTimeout = max(time.Until(dl), time.Millisecond)
	}
	if pin != "" {
		sum, err := FileSHA256(path)
		if err != nil {
			return nil, nil, fmt.Errorf("grant plugin %q: could not read %s to check plugin_sha256: %w", name, path, err)
		}
		if !strings.EqualFold(sum, pin) {
			return nil, nil, fmt.Errorf("grant plugin %q at %s has sha256 %s, but plugin_sha256 pins %s; it was not run. If you replaced the plugin on purpose, set plugin_sha256 = %q", name, path, sum, strings.ToLower(pin), sum)
		}
		want, _ := hex.DecodeString(pin)
		// go-plugin checks again right before it starts the process.
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: want, Hash: sha256.New()}
	}
	client := goplugin.NewClient(cfg)
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, nil, h.explainStart(ctx, name, path, err)
	}
	raw, err := rpc.Dispense(plugin.PluginName)
	if err != nil {
		client.Kill()
		return nil, nil, fmt.Errorf("grant plugin %q at %s does not serve lanyard's grant service: %w", name, path, err)
	}
	g, ok := raw.(plugin.Grant)
	if !ok {
		client.Kill()
		return nil, nil, fmt.Errorf("grant plugin %q: dispensed %T, not a grant", name, raw)
	}
	return g, client.Kill, nil
}

func (h *PluginHost) explainStart(ctx context.Context, name, path string, err error) error {
	if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		return fmt.Errorf("grant plugin %q at %s changed after its plugin_sha256 was checked; it was not run", name, path)
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("grant plugin %q at %s did not start within %s; it was stopped (LANYARD_PLUGIN_TIMEOUT sets the limit)", name, path, h.timeout())
		}
		return ctx.Err()
	}
	var pe *os.PathError
	if errors.As(err, &pe) || errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("could not start grant plugin %q at %s: %w", name, path, err)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if line, ok := strings.CutPrefix(msg, "Unrecognized remote plugin message: "); ok {
		msg = fmt.Sprintf("it printed %q instead of the handshake line", firstLine(line))
		if strings.TrimSpace(line) == "" {
			msg = "it exited without printing the handshake line"
		}
	}
	return fmt.Errorf("grant plugin %q at %s did not complete lanyard's plugin handshake (%s); is it a lanyard grant plugin? Its main must call plugin.Serve from github.com/lanyardhq/lanyard/plugin", name, path, msg)
}

// explain turns an RPC failure into what happened to the plugin.
func (h *PluginHost) explain(ctx context.Context, name, method string, err error) error {
	var se *plugin.SettingError
	if errors.As(err, &se) {
		return fmt.Errorf("grant plugin %q: %w", name, err)
	}
	code := status.Code(err)
	switch {
	case code == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("grant plugin %q did not answer %s within %s; it was stopped (LANYARD_PLUGIN_TIMEOUT sets the limit)", name, method, h.timeout())
	case code == codes.Canceled || ctx.Err() != nil:
		return fmt.Errorf("grant plugin %q: %s call canceled: %w", name, method, context.Cause(ctx))
	case code == codes.Unavailable:
		return fmt.Errorf("grant plugin %q exited during the %s call (it crashed or was killed); run with --debug to see its log", name, method)
	case code == codes.Unimplemented:
		return fmt.Errorf("grant plugin %q does not implement %s; rebuild it against github.com/lanyardhq/lanyard/plugin", name, method)
	}
	if s, ok := status.FromError(err); ok {
		return fmt.Errorf("grant plugin %q: %s failed: %s", name, method, s.Message())
	}
	return fmt.Errorf("grant plugin %q: %w", name, err)
}

func (h *PluginHost) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultPluginTimeout
}

// logger sends the plugins' hclog lines to Stderr: warnings and errors
// always, debug with Debug. go-plugin's own chatter (process exits, kill
// retries) shows only with Debug: the error lanyard returns says it better.
func (h *PluginHost) logger() hclog.Logger {
	out := h.Stderr
	if out == nil {
		out = io.Discard
	}
	own, plugins := hclog.Off, hclog.Warn
	if h.Debug {
		own, plugins = hclog.Debug, hclog.Debug
	}
	return pluginLogger{
		Logger:  hclog.New(&hclog.LoggerOptions{Name: "lanyard", Output: out, Level: own}),
		plugins: hclog.New(&hclog.LoggerOptions{Name: "lanyard", Output: out, Level: plugins}),
	}
}

// pluginLogger is go-plugin's client logger. go-plugin logs what a plugin
// writes through Named(binary name), so Named picks the plugins' level.
type pluginLogger struct {
	hclog.Logger
	plugins hclog.Logger
}

// Named returns the logger for a plugin's own lines.
func (l pluginLogger) Named(name string) hclog.Logger { return l.plugins.Named(name) }
