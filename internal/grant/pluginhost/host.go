// Package pluginhost is the go-plugin client side of lanyard's grant
// plugins, run in its own process (lanyard-plugin-host) so that only the
// slow path links go-plugin and gRPC. It starts a plugin with AutoMTLS,
// gRPC only, the handshake cookie and, when pinned, go-plugin's
// SecureConfig checksum; checks the profile's settings against the
// plugin's schema; calls Token; and kills the plugin.
package pluginhost

import (
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
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/plugin"
)

// Main reads a grant.HostRequest from stdin, runs it and writes a
// grant.HostResponse to stdout. Plugin logs go to stderr. It returns 0
// whenever it could answer, even with an error: the error is in the answer.
func Main(stdin io.Reader, stdout, stderr io.Writer) int {
	var req grant.HostRequest
	if err := json.NewDecoder(io.LimitReader(stdin, 16<<20)).Decode(&req); err != nil {
		fmt.Fprintf(stderr, "%s runs grant plugins for lanyard; it reads a JSON request on stdin: %v\n", grant.PluginHostName, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	resp := Run(ctx, req, stderr)
	if err := json.NewEncoder(stdout).Encode(resp); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", grant.PluginHostName, err)
		return 1
	}
	return 0
}

// Run carries out one request.
func Run(ctx context.Context, req grant.HostRequest, stderr io.Writer) *grant.HostResponse {
	timeout := time.Duration(req.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = grant.DefaultPluginTimeout
	}
	h := &host{timeout: timeout, stderr: stderr, debug: req.Debug}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g, kill, err := h.start(ctx, req.Name, req.Path, req.SHA256)
	if err != nil {
		return fail(err)
	}
	defer kill()
	switch req.Op {
	case "describe":
		d, err := g.Describe(ctx)
		if err != nil {
			return fail(h.explain(ctx, req.Name, "Describe", err))
		}
		return &grant.HostResponse{Description: description(d)}
	case "token":
		t, err := h.call(ctx, g, req)
		if err != nil {
			return fail(err)
		}
		return &grant.HostResponse{Token: t}
	}
	return fail(fmt.Errorf("%s: unknown operation %q", grant.PluginHostName, req.Op))
}

func fail(err error) *grant.HostResponse {
	var se *plugin.SettingError
	return &grant.HostResponse{Error: err.Error(), SettingError: errors.As(err, &se)}
}

func description(d *plugin.Description) *grant.PluginDescription {
	out := &grant.PluginDescription{Name: d.Name, Version: d.Version}
	for _, s := range d.Settings {
		out.Settings = append(out.Settings, grant.PluginSetting{Name: s.Name, Description: s.Description, Required: s.Required, Secret: s.Secret})
	}
	return out
}

type host struct {
	timeout time.Duration
	stderr  io.Writer
	debug   bool
}

// call is the part of a run after the process is up; tests drive it over
// go-plugin's in-process gRPC connection.
func (h *host) call(ctx context.Context, g plugin.Grant, req grant.HostRequest) (*grant.PluginToken, error) {
	d, err := g.Describe(ctx)
	if err != nil {
		return nil, h.explain(ctx, req.Name, "Describe", err)
	}
	if err := checkSettings(req, d); err != nil {
		return nil, err
	}
	settings := req.Settings
	if settings == nil {
		settings = map[string]string{}
	}
	pt, err := g.Token(ctx, settings, req.State)
	if err != nil {
		return nil, h.explain(ctx, req.Name, "Token", err)
	}
	return &grant.PluginToken{AccessToken: pt.AccessToken, TokenType: pt.TokenType, Expiry: pt.Expiry, State: pt.State, Extra: pt.Extra}, nil
}

// checkSettings holds the profile's settings against the plugin's schema,
// before anything is sent: required ones present, no unknown ones (typos),
// secret ones written as references.
func checkSettings(req grant.HostRequest, d *plugin.Description) error {
	if len(d.Settings) == 0 {
		return nil
	}
	profile := req.Profile
	if profile == "" {
		profile = "PROFILE"
	}
	known := make([]string, 0, len(d.Settings))
	for _, s := range d.Settings {
		known = append(known, s.Name)
		v, ok := req.Settings[s.Name]
		switch {
		case s.Required && (!ok || v == ""):
			msg := fmt.Sprintf("missing; plugin %s needs it", req.Name)
			if s.Description != "" {
				msg += " (" + s.Description + ")"
			}
			return &plugin.SettingError{Setting: s.Name, Msg: msg}
		case s.Secret && ok && !slices.Contains(req.Refs, s.Name):
			return &plugin.SettingError{Setting: s.Name, Msg: `is a secret: write a reference, not the secret itself: "file:PATH", "env:NAME", "cmd:COMMAND" or "keyring" (then: lanyard secret set ` + profile + " " + s.Name + ")"}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(req.Settings)) {
		if !slices.Contains(known, k) {
			return &plugin.SettingError{Setting: k, Msg: fmt.Sprintf("plugin %s does not know it; it reads %s", req.Name, strings.Join(known, ", "))}
		}
	}
	return nil
}

// start runs the plugin binary and connects to it. The process dies with
// ctx; kill stops it in any case.
func (h *host) start(ctx context.Context, name, path, pin string) (plugin.Grant, func(), error) {
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake,
		Plugins:          plugin.PluginMap,
		Cmd:              exec.CommandContext(ctx, path),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           h.logger(),
		StartTimeout:     h.timeout,
	}
	if dl, ok := ctx.Deadline(); ok {
		cfg.StartTimeout = max(time.Until(dl), time.Millisecond)
	}
	if pin != "" {
		// lanyard compared the pin already; go-plugin checks again right
		// before it starts the process.
		want, err := hex.DecodeString(pin)
		if err != nil {
			return nil, nil, fmt.Errorf("grant plugin %q: plugin_sha256 %q is not hex", name, pin)
		}
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

func (h *host) explainStart(ctx context.Context, name, path string, err error) error {
	if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		return fmt.Errorf("grant plugin %q at %s does not match its plugin_sha256 (it changed while lanyard checked it); it was not run", name, path)
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("grant plugin %q at %s did not start within %s; it was stopped (LANYARD_PLUGIN_TIMEOUT sets the limit)", name, path, h.timeout)
		}
		return fmt.Errorf("grant plugin %q: start canceled: %w", name, ctx.Err())
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
func (h *host) explain(ctx context.Context, name, method string, err error) error {
	var se *plugin.SettingError
	if errors.As(err, &se) {
		return fmt.Errorf("grant plugin %q: %w", name, err)
	}
	code := status.Code(err)
	switch {
	case code == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("grant plugin %q did not answer %s within %s; it was stopped (LANYARD_PLUGIN_TIMEOUT sets the limit)", name, method, h.timeout)
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

// logger sends the plugins' hclog lines to stderr: warnings and errors
// always, debug with --debug. go-plugin's own chatter (process exits, kill
// retries) shows only with --debug: the error lanyard returns says it better.
func (h *host) logger() hclog.Logger {
	out := h.stderr
	if out == nil {
		out = io.Discard
	}
	own, plugins := hclog.Off, hclog.Warn
	if h.debug {
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

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
