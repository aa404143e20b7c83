package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lanyardhq/lanyard/helpers/mcp"
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
	in, out := readCloser(env.Stdin), writeCloser(env.Stdout)
	u, err := mcpauth.ServerURL(c.URL)
	if err != nil {
		// The MCP client shows the initialize error; a process that exits
		// at once shows up as "server disconnected".
		return mcp.Refuse(ctx, in, out, env.Stderr, err)
	}
	profile := c.Profile
	path := config.Path(env.Getenv)
	if profile == "" {
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		name, made, err := mcpauth.Ensure(dctx, backchannel.Client(0), path, u)
		cancel()
		if err != nil {
			return mcp.Refuse(ctx, in, out, env.Stderr, err)
		}
		if made {
			fmt.Fprintf(env.Stderr, "lanyard mcp: registered a client and added profile %q to %s\n", name, path)
		}
		profile = name
	}
	r := &mcp.Relay{
		URL: c.URL, Profile: profile,
		Resolver: resolver(env),
		// A login needs a browser the person can see: without one (or
		// with LANYARD_NONINTERACTIVE=1) the relay says which command to
		// run instead of waiting.
		Interactive: browser.Opener(env.Getenv) != nil && !env.caller().Refused,
		Stderr:      env.Stderr,
		AddScopes: func(scopes []string) ([]string, error) {
			return config.AddScopes(path, profile, scopes)
		},
	}
	return r.Run(ctx, in, out)
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
