package pykeyring

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
)

// Command is the lanyard subcommand keyrings.lanyard runs.
const Command = "pip-credential"

// MinTTL is how long a token handed to pip or twine stays valid at least.
// Neither asks again after a 401, and both keep the credential for their
// whole run (a pip install of many packages, a twine upload of large
// files): a token with less left is refreshed first.
const MinTTL = 2 * time.Minute

// Exit codes.
const (
	exitError         = 1
	exitUsage         = 2
	exitLoginRequired = 3
)

const usage = `usage: lanyard pip-credential SERVICE

keyrings.lanyard (the keyring backend pip and twine use; lanyard setup pip
installs it) runs this with the index URL or host keyring was asked about. It
prints {"username","password","profile","expires_at"} for the profile whose
match serves SERVICE, or nothing.
`

// Main runs `lanyard pip-credential` and returns its exit code. r answers
// the token request: nil means client.New, which asks the agent or answers
// in-process (LANYARD_AGENT=off); tests pass the in-process handler. It never runs a login: pip and
// twine run it without a terminal of their own, so a login that is needed
// exits 3 with "run: lanyard login P".
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stderr, usage)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintf(stderr, "lanyard pip-credential: want one SERVICE, got %q\n%s", args, usage)
		return exitUsage
	}
	u, ok := ServiceURL(args[0])
	if !ok {
		return 0
	}
	if r == nil {
		r = client.New(getenv, stderr, env.Env(getenv).Debug())
	}
	resp, err := r.Resolve(context.Background(), &wire.Request{Op: wire.OpGet, Tool: wire.ToolPip, URL: u, MinTTL: MinTTL})
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return exitError
	}
	switch resp.Status {
	case wire.StatusNoMatch:
		return 0
	case wire.StatusOK:
	case wire.StatusLoginRequired:
		fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
		return exitLoginRequired
	default:
		fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
		return exitError
	}
	out, err := Format(Answer(resp.Profile, resp.PipUsername, resp.Token, resp.Expiry))
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: profile %q (%s): %v\n", resp.Profile, resp.Source, err)
		return exitError
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return exitError
	}
	return 0
}
