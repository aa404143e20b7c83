package token

import (
	"context"
	"fmt"
	"io"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// Exit codes (docs/token.md, "Exit codes").
const (
	ExitError         = 1
	ExitUsage         = 2 // bad command line or profiles file
	ExitLoginRequired = 3 // run lanyard login PROFILE
)

// Run answers `lanyard token` through r (the agent client, which answers
// in-process without an agent) and returns the exit code. interactive
// says a person may log in now, on this terminal.
func Run(ctx context.Context, a Args, interactive bool, stdout, stderr io.Writer, r wire.Resolver) int {
	req := &wire.Request{Op: wire.OpGet, Tool: wire.ToolToken, Profile: a.Profile, URL: a.URL,
		MinTTL: a.MinTTL, ForceRefresh: a.ForceRefresh, Interactive: interactive}
	resp, err := r.Resolve(ctx, req)
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return ExitError
	}
	switch resp.Status {
	case wire.StatusOK:
		if err := Write(stdout, a.Format, resp.Token, resp.TokenType, resp.Expiry, resp.Profile); err != nil {
			fmt.Fprintf(stderr, "lanyard: %v\n", err)
			return ExitError
		}
		return 0
	case wire.StatusLoginRequired:
		fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
		return ExitLoginRequired
	case wire.StatusBadConfig:
		fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
	return ExitError
}
