package terraform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/redact"
)

// MinTTL is how long a token handed to Terraform must stay valid:
// Terraform keeps it for the whole command and never tells a helper that
// the host refused it, so a token closer to its end is refreshed first.
const MinTTL = 2 * time.Minute

// maxStore bounds what store reads from stdin (one small JSON object,
// read only so Terraform's write does not fail, and never kept).
const maxStore = 1 << 20

const usage = `usage: terraform-credentials-lanyard [--debug] get|store|forget HOSTNAME

Terraform and OpenTofu run this credentials helper; configure it with:
  lanyard setup terraform PROFILE
or by hand: put it into ~/.terraform.d/plugins/ and add to ~/.terraformrc
  credentials_helper "lanyard" {}

  get HOST     print {"token":TOKEN} for the profile whose match serves https://HOST/, or {}
  store HOST   change nothing: lanyard manages the token (lanyard login PROFILE)
  forget HOST  change nothing: lanyard manages the token (lanyard logout PROFILE)
`

// Main runs terraform-credentials-lanyard and returns its exit code. r
// answers the token requests: nil means the agent (internal/agent/client);
// tests pass the in-process handler.
//
// Exit codes: 0 when get answered (a token, or {} when no profile serves the
// host); 1 when a profile serves the host but no token can be had (stderr
// says why and what to run; Terraform shows it), and for store and forget,
// which lanyard does not do; 2 for a bad command line.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver) int {
	debug := env.Env(getenv).Debug()
	var rest []string
	for _, a := range args {
		switch a {
		case "--debug":
			debug = true
		case "-h", "--help":
			fmt.Fprint(stderr, usage)
			return 0
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) != 2 {
		fmt.Fprintf(stderr, "terraform-credentials-lanyard: want a verb and a hostname, got %d arguments\n%s", len(rest), usage)
		return 2
	}
	verb, host := rest[0], rest[1]
	switch verb {
	case VerbGet, VerbStore, VerbForget:
	default:
		fmt.Fprintf(stderr, "terraform-credentials-lanyard: unknown verb %q\n%s", verb, usage)
		return 2
	}
	u, err := HostURL(host)
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return 2
	}
	if r == nil {
		r = client.New(getenv, stderr, debug)
	}
	log := slog.New(slog.DiscardHandler)
	if debug {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if verb == VerbStore {
		// The token terraform login obtained: read so Terraform's write
		// succeeds, then dropped.
		_, _ = io.Copy(io.Discard, io.LimitReader(stdin, maxStore))
	}
	// Never interactive: Terraform runs helpers with its own stdin; a
	// login needs "lanyard login P", which the error names.
	resp, err := r.Resolve(context.Background(), &wire.Request{Op: wire.OpGet, Tool: wire.ToolTerraform, URL: u, MinTTL: MinTTL})
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return 1
	}
	if verb != VerbGet {
		if resp.Status == wire.StatusBadConfig {
			fmt.Fprintf(stderr, "lanyard: %s\n", resp.Message)
			return 1
		}
		fmt.Fprintf(stderr, "lanyard: %s\n", ManagedMessage(verb, host, resp.Profile))
		return 1
	}
	switch resp.Status {
	case wire.StatusNoMatch:
		log.Debug("no profile serves this host", "url", u)
		_, err = io.WriteString(stdout, NoCredentials)
	case wire.StatusOK:
		log.Debug("get", "profile", resp.Profile, "url", u, "token", redact.Secret(resp.Token), "expiry", resp.Expiry)
		_, err = stdout.Write(FormatToken(resp.Token))
	default:
		err = errors.New(resp.Message)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return 1
	}
	return 0
}
