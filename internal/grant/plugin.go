package grant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
)

// Grant plugins run in two hops: lanyard's engine execs lanyard-plugin-host
// (package grant/pluginhost), which runs the plugin with hashicorp/go-plugin
// and answers in JSON. go-plugin and gRPC cost every process that links
// them about 10 ms of package initialisation; keeping them out of this
// package keeps them out of git-credential-lanyard and the other helpers,
// whose cache hits must stay close to a hello-world's start-up.

// PluginPrefix starts the file name of every grant plugin: grant =
// "plugin:NAME" runs lanyard-grant-NAME.
const PluginPrefix = "lanyard-grant-"

// PluginHostName is the binary that runs plugins for lanyard.
const PluginHostName = "lanyard-plugin-host"

// DefaultPluginTimeout bounds one plugin run (start, Describe, Token) when
// PluginHost.Timeout is zero.
const DefaultPluginTimeout = 30 * time.Second

// validPluginName: a letter or digit, then up to 63 of A-Z a-z 0-9 . _ -.
// A loop, not a regexp: compiling `{0,63}` cost every helper process about
// 1 ms at start-up, cache hits included (make bench).
func validPluginName(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return true
}

// PluginHost finds grant plugins and runs them through lanyard-plugin-host:
// one plugin process per call, stopped before the call returns.
type PluginHost struct {
	// Dirs are searched in order for lanyard-grant-NAME (see PluginDirs).
	Dirs []string
	// HostPaths are the candidate paths of lanyard-plugin-host, in order;
	// each must be absolute (the host is never looked up on PATH).
	HostPaths []string
	// Env is the host's environment (and so its plugins'); nil:
	// config.ChildEnv(os.Environ()). Never the keyring passphrase.
	Env []string
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
	if !validPluginName(name) {
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
		if IsExecutable(p) {
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
			if !IsExecutable(p) {
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

// IsExecutable reports whether p is a regular file with an execute bit.
func IsExecutable(p string) bool {
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

// CheckPin compares the plugin binary at path with its pin.
func CheckPin(name, path, pin string) error {
	sum, err := FileSHA256(path)
	if err != nil {
		return fmt.Errorf("grant plugin %q: could not read %s to check plugin_sha256: %w", name, path, err)
	}
	if !strings.EqualFold(sum, pin) {
		return fmt.Errorf("grant plugin %q at %s has sha256 %s, but plugin_sha256 pins %s; it was not run. If you replaced the plugin on purpose, set plugin_sha256 = %q", name, path, sum, strings.ToLower(pin), sum)
	}
	return nil
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
	// value itself. It is called for every setting before the plugin
	// starts, so plugins never resolve references themselves.
	Resolve func(ctx context.Context, key, value string) (resolved string, secret bool, err error)
}

// PluginSettingError is a setting the plugin (or its settings schema)
// refused; the engine adds where the profile is.
type PluginSettingError struct{ Msg string }

func (e *PluginSettingError) Error() string { return e.Msg }

// PluginDescription is a plugin's name, version and settings schema.
type PluginDescription struct {
	Name     string          `json:"name"`
	Version  string          `json:"version,omitempty"`
	Settings []PluginSetting `json:"settings,omitempty"`
}

// PluginSetting is one entry of a plugin's settings schema.
type PluginSetting struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Secret      bool   `json:"secret,omitempty"`
}

// PluginToken is a plugin's answer to Token.
type PluginToken struct {
	AccessToken string            `json:"access_token"`
	TokenType   string            `json:"token_type,omitempty"`
	Expiry      time.Time         `json:"expiry,omitzero"`
	State       string            `json:"state,omitempty"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// HostRequest is what lanyard writes to lanyard-plugin-host's stdin.
// Settings carry resolved secrets: they travel over the pipe only.
type HostRequest struct {
	Op        string            `json:"op"` // "token" or "describe"
	Name      string            `json:"name"`
	Path      string            `json:"path"`
	SHA256    string            `json:"sha256,omitempty"`
	Profile   string            `json:"profile,omitempty"`
	Settings  map[string]string `json:"settings,omitempty"`
	Refs      []string          `json:"refs,omitempty"` // settings written as secret references
	State     string            `json:"state,omitempty"`
	TimeoutMS int64             `json:"timeout_ms"`
	Debug     bool              `json:"debug,omitempty"`
}

// HostResponse is what lanyard-plugin-host writes to its stdout.
type HostResponse struct {
	Token       *PluginToken       `json:"token,omitempty"`
	Description *PluginDescription `json:"description,omitempty"`
	Error       string             `json:"error,omitempty"`
	// SettingError marks Error as a problem with the profile's settings.
	SettingError bool `json:"setting_error,omitempty"`
}

// Token runs the plugin once: find it, check its pin, resolve the secret
// settings, then have lanyard-plugin-host start it, check the settings
// against its schema, call Token and stop it. The result is not saved: that
// is the engine's job.
func (h *PluginHost) Token(ctx context.Context, req PluginRequest) (*Token, error) {
	path, err := h.Find(req.Name)
	if err != nil {
		return nil, err
	}
	if req.SHA256 != "" {
		if err := CheckPin(req.Name, path, req.SHA256); err != nil {
			return nil, err
		}
	}
	hr := HostRequest{Op: "token", Name: req.Name, Path: path, SHA256: req.SHA256, Profile: req.Profile, State: req.State, Settings: map[string]string{}}
	for _, k := range slices.Sorted(maps.Keys(req.Settings)) {
		v := req.Settings[k]
		if req.Resolve != nil {
			r, secret, err := req.Resolve(ctx, k, v)
			if err != nil {
				return nil, err
			}
			v = r
			if secret {
				hr.Refs = append(hr.Refs, k)
			}
		}
		hr.Settings[k] = v
	}
	resp, err := h.runHost(ctx, hr)
	if err != nil {
		return nil, err
	}
	if resp.Token == nil {
		return nil, fmt.Errorf("%s answered neither a token nor an error; reinstall lanyard", PluginHostName)
	}
	return h.convert(req.Name, resp.Token)
}

// Describe has lanyard-plugin-host start the plugin at path, ask for its
// description and stop it. A non-empty pin is checked first.
func (h *PluginHost) Describe(ctx context.Context, name, path, pin string) (*PluginDescription, error) {
	if pin != "" {
		if err := CheckPin(name, path, pin); err != nil {
			return nil, err
		}
	}
	resp, err := h.runHost(ctx, HostRequest{Op: "describe", Name: name, Path: path, SHA256: pin})
	if err != nil {
		return nil, err
	}
	if resp.Description == nil {
		return nil, fmt.Errorf("%s answered neither a description nor an error; reinstall lanyard", PluginHostName)
	}
	return resp.Description, nil
}

// convert checks a plugin's token and turns it into the engine's.
func (h *PluginHost) convert(name string, pt *PluginToken) (*Token, error) {
	if pt.AccessToken == "" {
		return nil, fmt.Errorf("grant plugin %q returned no access token", name)
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
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("grant plugin %q: %w", name, err)
	}
	switch {
	case t.Expiry.IsZero():
		t.Expiry, t.ExpiryGuessed = now().Add(DefaultLifetime), true
	case !t.Expiry.After(now()):
		return nil, fmt.Errorf("grant plugin %q returned a token that expired at %s (now %s); check the clocks of this machine and the plugin's API", name, t.Expiry.UTC().Format(time.RFC3339), now().UTC().Format(time.RFC3339))
	}
	return t, nil
}

func (h *PluginHost) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultPluginTimeout
}

// hostPath returns the first lanyard-plugin-host among HostPaths.
func (h *PluginHost) hostPath() (string, error) {
	for _, p := range h.HostPaths {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("%s path %q is not absolute; set LANYARD_PLUGIN_HOST to its full path, or unset it to use the one next to lanyard", PluginHostName, p)
		}
		if IsExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (looked at %s); it runs grant plugins and is installed with lanyard: run make install, or set LANYARD_PLUGIN_HOST", PluginHostName, strings.Join(h.HostPaths, ", "))
}

// runHost execs lanyard-plugin-host with req. The host enforces the
// plugin timeout itself; the extra grace here only catches a stuck host.
func (h *PluginHost) runHost(ctx context.Context, req HostRequest) (*HostResponse, error) {
	host, err := h.hostPath()
	if err != nil {
		return nil, err
	}
	req.TimeoutMS = h.timeout().Milliseconds()
	req.Debug = h.Debug
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout()+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, host)
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = config.ChildEnv(os.Environ())
	}
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = h.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	// Cancelled (Ctrl-C, a stuck host): ask the host to stop its plugin
	// first; kill it if it has not exited two seconds later.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()
	var resp HostResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("grant plugin %q: %s did not finish in time: %w", req.Name, PluginHostName, context.Cause(ctx))
		}
		if runErr != nil {
			return nil, fmt.Errorf("grant plugin %q: %s failed: %w", req.Name, host, runErr)
		}
		return nil, fmt.Errorf("grant plugin %q: %s answered %q, not JSON; reinstall lanyard", req.Name, host, firstLine(out.String()))
	}
	if resp.Error != "" {
		// Plugins quote their APIs' messages (GitHub's): no control characters.
		if resp.SettingError {
			return nil, &PluginSettingError{Msg: Printable(resp.Error)}
		}
		return nil, errors.New(Printable(resp.Error))
	}
	return &resp, nil
}
