package goauth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/redact"
)

// Command is the lanyard subcommand the go command runs: the GOAUTH entry
// is "lanyard goauth" (the go command splits GOAUTH at ";" and runs each
// entry that is not off, netrc or git as a command line).
const Command = "goauth"

// GOAUTH is the GOAUTH entry that runs this helper.
const GOAUTH = "lanyard " + Command

// MinTTL is how long a token handed to the go command stays valid at
// least. The go command keeps it for the rest of its run and asks again
// only after a 4xx (once per fetch): a token about to expire would be
// refused mid-download, so one with less left is refreshed first. A
// minute outlives the request it is fetched for; a longer margin would
// refresh short-lived tokens (the default refresh_before is 60 s too) on
// every call.
const MinTTL = time.Minute

// MaxRequest bounds what is read from stdin: a status line and headers.
const MaxRequest = 1 << 20

const usage = `usage: lanyard goauth [URL]

The go command runs this as a GOAUTH command (go help goauth); set it up with
  lanyard setup go PROFILE [--write]
which runs go env -w GOAUTH='lanyard goauth;netrc' (keeping the methods you had).

Without URL (the go command's first call) it prints nothing. With the URL a
server refused (and the response on stdin) it prints the token of the profile
whose match serves URL, for that match prefix, or nothing.
`

// Exit codes.
const (
	exitError         = 1
	exitUsage         = 2
	exitLoginRequired = 3
)

// Main runs `lanyard goauth` and returns its exit code. r answers the token
// request: nil means client.New, which asks the agent or answers
// in-process (LANYARD_AGENT=off); tests pass the in-process handler.
//
// It exits 0 with no output when no profile serves the URL, so the go
// command's other GOAUTH methods answer; non-zero when a profile serves it
// but no token can be had (the go command shows the stderr line, ending
// "run: lanyard login P", under go -x, and reports the fetch's 4xx).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver) int {
	debug := env.Env(getenv).Debug()
	log := slog.New(slog.DiscardHandler)
	if debug {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	switch {
	case len(args) == 0:
		// The go command's first call, before any fetch: no URL to
		// match, so nothing to fetch a token for.
		return 0
	case len(args) > 1 || args[0] == "-h" || args[0] == "--help" || !strings.HasPrefix(args[0], "https://"):
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stderr, usage)
			return 0
		}
		fmt.Fprintf(stderr, "lanyard goauth: want one https:// URL, got %q\n%s", args, usage)
		return exitUsage
	}
	url := args[0]
	data, err := io.ReadAll(io.LimitReader(stdin, MaxRequest+1))
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: could not read the response the go command sent: %v\n", err)
		return exitError
	}
	if len(data) > MaxRequest {
		fmt.Fprintf(stderr, "lanyard: the response the go command sent is larger than %d MiB; this is not what the go command sends\n", MaxRequest>>20)
		return exitError
	}
	// The refused response only informs the debug log: the URL decides.
	refused, err := ParseRefused(data)
	log.Debug("goauth", "url", url, "status", refused.Status, "www-authenticate", refused.Get("Www-Authenticate"), "parse", err)

	if r == nil {
		r = client.New(getenv, stderr, debug)
	}
	// No signal handling and no login here: the go command hides this
	// command's terminal, so a login would wait for nobody.
	resp, err := r.Resolve(context.Background(), &wire.Request{Op: wire.OpGet, Tool: wire.ToolGoauth, URL: url, MinTTL: MinTTL})
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return exitError
	}
	switch resp.Status {
	case wire.StatusNoMatch:
		log.Debug("no profile serves this URL", "url", url)
		return 0
	case wire.StatusOK:
	case wire.StatusLoginRequired:
		fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
		return exitLoginRequired
	default:
		fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
		return exitError
	}
	if resp.Prefix == "" {
		// An agent older than this helper: it answers without the prefix.
		fmt.Fprintln(stderr, "lanyard: the agent did not say which URL prefix the token serves; it is older than this lanyard: run lanyard agent stop")
		return exitError
	}
	out, err := Format([]CredentialSet{Bearer(resp.Prefix, resp.Token)})
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: profile %q: %v\n", resp.Profile, err)
		return exitError
	}
	log.Debug("answer", "profile", resp.Profile, "prefix", resp.Prefix, "token", redact.Secret(resp.Token), "expiry", resp.Expiry)
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return exitError
	}
	return 0
}
