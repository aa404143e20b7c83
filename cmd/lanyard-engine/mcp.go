package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/lanyardhq/lanyard/helpers/mcp"
	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/browser"
)

// McpCmd is the stdio MCP server MCP clients start: it relays to the remote
// server at URL with PROFILE's token (docs/mcp.md).
type McpCmd struct {
	URL     string `arg:"" help:"The MCP server's Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp."`
	Profile string `help:"Profile whose tokens the server gets." predictor:"profile"`
}

// Run relays stdin/stdout to the server until stdin ends.
func (c *McpCmd) Run(ctx context.Context, env *Env) error {
	if c.Profile == "" {
		return errors.New("lanyard mcp needs --profile PROFILE (a profile whose tokens the MCP server accepts; see docs/mcp.md)")
	}
	r := &mcp.Relay{
		URL: c.URL, Profile: c.Profile,
		Resolver: client.New(env.Getenv, env.Stderr, env.Debug),
		// A login needs a browser the person can see: without one the
		// relay says which command to run instead of waiting.
		Interactive: browser.Opener(env.Getenv) != nil,
		Stderr:      env.Stderr,
	}
	return r.Run(ctx, readCloser(env.Stdin), writeCloser(env.Stdout))
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
