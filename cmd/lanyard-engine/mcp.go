package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lanyardhq/lanyard/helpers/mcp"
	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/backchannel"
	"github.com/lanyardhq/lanyard/internal/browser"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/mcpauth"
)

// McpCmd is the stdio MCP server MCP clients start: it relays to the remote
// server at URL with PROFILE's token (docs/mcp.md).
type McpCmd struct {
	URL     string `arg:"" help:"The MCP server's Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp."`
	Profile string `help:"Profile whose tokens the server gets (default: the profile lanyard mcp made for URL, made now if missing)." predictor:"profile"`
}

// Run relays stdin/stdout to the server until stdin ends.
func (c *McpCmd) Run(ctx context.Context, env *Env) error {
	if _, err := mcp.ServerURL(c.URL); err != nil {
		// The MCP client shows the initialize error; a process that exits
		// at once shows up as "server disconnected".
		return mcp.Refuse(ctx, readCloser(env.Stdin), writeCloser(env.Stdout), env.Stderr, err)
	}
	profile := c.Profile
	if profile == "" {
		var err error
		if profile, err = mcpProfile(ctx, env, c.URL); err != nil {
			return mcp.Refuse(ctx, readCloser(env.Stdin), writeCloser(env.Stdout), env.Stderr, err)
		}
	}
	r := &mcp.Relay{
		URL: c.URL, Profile: profile,
		Resolver: client.New(env.Getenv, env.Stderr, env.Debug),
		// A login needs a browser the person can see: without one the
		// relay says which command to run instead of waiting.
		Interactive: browser.Opener(env.Getenv) != nil,
		Stderr:      env.Stderr,
	}
	return r.Run(ctx, readCloser(env.Stdin), writeCloser(env.Stdout))
}

// mcpProfile is the profile lanyard mcp made for serverURL: reused when the
// profiles file has it (its registered client too), else made now from the
// server's 401 (MCP authorization: RFC 9728, RFC 8414, RFC 7591) and
// appended to the profiles file.
func mcpProfile(ctx context.Context, env *Env, serverURL string) (string, error) {
	u, err := mcp.ServerURL(serverURL)
	if err != nil {
		return "", err
	}
	name := mcpauth.ProfileName(u)
	path := config.Path(env.Getenv)
	p, err := existingProfile(path, name)
	if err != nil {
		return "", err
	}
	if p != nil {
		// Reuse it (and its registered client), if it is for this server.
		if !slices.Contains(p.Resources(), mcp.CanonicalResource(u)) {
			return "", fmt.Errorf("profile %q (%s:%d) is not for %s (its resource is %q); pass --profile, or remove that profile", name, p.File, p.Line, mcp.CanonicalResource(u), p.Resources())
		}
		return name, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hc := backchannel.Client(0)
	s, err := mcpauth.Discover(ctx, hc, u.String())
	if err != nil {
		return "", err
	}
	clientID, err := mcpauth.Register(ctx, hc, s)
	if err != nil {
		return "", err
	}
	text := mcpauth.ProfileTOML(name, u.String(), clientID, s, time.Now().UTC().Format("2006-01-02"))
	if err := appendText(path, text); err != nil {
		// Another lanyard mcp for the same server may have won the race.
		if p, _ := existingProfile(path, name); p != nil {
			return name, nil
		}
		return "", err
	}
	fmt.Fprintf(env.Stderr, "lanyard mcp: registered a client at %s and added profile %q to %s\n", s.Issuer, name, path)
	return name, nil
}

func existingProfile(path, name string) (*config.Profile, error) {
	cfg, err := config.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return cfg.Profiles[name], nil
}

// appendText adds a profile table at the end of the profiles file
// (created 0600 if missing) after checking that the whole file still parses.
func appendText(path, text string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		text = "\n" + text
	}
	if _, err := config.Parse(path, append(old[:len(old):len(old)], text...)); err != nil {
		return fmt.Errorf("the new profile would not be valid, nothing was written: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readCloser(r io.Reader) io.ReadCloser {
	if rc, ok := r.(io.ReadCloser); ok {
		return rc
	}
	return io.NopCloser(r)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func writeCloser(w io.Writer) io.WriteCloser {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return nopWriteCloser{w}
}
