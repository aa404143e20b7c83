package cargo

import (
	"bufio"
	"bytes"
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

// MinTTL is how long a token handed to cargo must stay valid: cargo keeps
// it for the whole command (a publish uploads after the read), drops it
// from its cache a minute before expiration, and never tells a provider
// that the registry refused it. A token closer to its end is refreshed
// first.
const MinTTL = 2 * time.Minute

// MaxRequest bounds one request line: a URL, a few names and headers.
const MaxRequest = 1 << 20

const usage = `usage: cargo-credential-lanyard --cargo-plugin

cargo runs this credential provider; configure it with:
  lanyard setup cargo PROFILE --registry NAME
or in $CARGO_HOME/config.toml:
  [registries.NAME]
  credential-provider = ["cargo-credential-lanyard"]

It answers with the token of the profile whose match serves the registry's
index URL (without "sparse+"), as "Bearer TOKEN" (cargo_auth = "bare": the
token alone), and lets cargo ask its next provider for other registries.
`

// Main runs cargo-credential-lanyard and returns its exit code. r answers
// the token requests: nil means the agent (internal/agent/client); tests
// pass the in-process handler.
//
// Every answer, errors included, goes to stdout as cargo's protocol wants;
// the exit code is 0 when cargo closed stdin, 1 when its request could not
// be read, 2 for a command line cargo does not use.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver) int {
	debug := env.Env(getenv).Debug()
	for _, a := range args {
		switch a {
		case PluginFlag:
		case "--debug":
			debug = true
		case "-h", "--help":
			fmt.Fprint(stderr, usage)
			return 0
		default:
			// Arguments from the credential-provider line reach us twice:
			// here and in each request's args. lanyard takes none.
			fmt.Fprintf(stderr, "cargo-credential-lanyard: unknown argument %q; remove it from the credential-provider line\n%s", a, usage)
			return 2
		}
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	log := slog.New(slog.DiscardHandler)
	if debug {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if _, err := io.WriteString(stdout, Hello); err != nil {
		return 1
	}
	h := &handler{r: r, getenv: getenv, stderr: stderr, debug: debug, log: log}
	br := bufio.NewReaderSize(stdin, 64<<10)
	ctx := context.Background()
	for {
		data, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return 0 // cargo closed stdin: done
		}
		if err != nil {
			_, _ = stdout.Write(Fail(ErrOther, err.Error()))
			return 1
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		req, err := ParseRequest(data)
		if err != nil {
			// cargo-credential's main answers an unreadable request with
			// an error and stops.
			_, _ = stdout.Write(Fail(ErrOther, err.Error()))
			return 1
		}
		if _, err := stdout.Write(h.answer(ctx, req)); err != nil {
			return 1
		}
	}
}

// readLine reads one line of at most MaxRequest bytes; io.EOF only when
// nothing was read.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxRequest {
			return nil, fmt.Errorf("a request from cargo is larger than %d MiB; this is not a request cargo sends", MaxRequest>>20)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return buf, nil
		case err != nil:
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("could not read the request from cargo: %w", err)
			}
			return nil, err
		}
		return buf, nil
	}
}

type handler struct {
	r      wire.Resolver
	getenv func(string) string
	stderr io.Writer
	debug  bool
	log    *slog.Logger
}

func (h *handler) resolver() wire.Resolver {
	if h.r == nil {
		h.r = client.New(h.getenv, h.stderr, h.debug)
	}
	return h.r
}

// answer returns the line that answers req.
func (h *handler) answer(ctx context.Context, req Request) []byte {
	url := req.IndexURL()
	// Never interactive: cargo runs providers from builds and CI; a login
	// needs "lanyard login P", which the answer names.
	resp, err := h.resolver().Resolve(ctx, &wire.Request{Op: wire.OpGet, Tool: wire.ToolCargo, URL: url, MinTTL: MinTTL})
	if err != nil {
		return Fail(ErrOther, err.Error())
	}
	if resp.Status == wire.StatusNoMatch {
		h.log.Debug("no profile serves this registry", "url", url, "kind", req.Kind)
		return Fail(ErrURLNotSupported, "")
	}
	switch req.Kind {
	case KindGet:
		if resp.Status != wire.StatusOK {
			return Fail(ErrOther, resp.Message)
		}
		h.log.Debug("get", "profile", resp.Profile, "url", url, "operation", req.Operation, "token", redact.Secret(resp.Token), "expiry", resp.Expiry)
		return Get{Token: resp.Token, Expiry: resp.Expiry, Bare: resp.CargoAuth == AuthBare}.Format()
	case KindLogin, KindLogout:
		if resp.Status == wire.StatusBadConfig {
			return Fail(ErrOther, resp.Message)
		}
		// The Cargo book has a provider that only answers get say
		// operation-not-supported, but cargo 1.95 shows that kind as
		// "requested operation not supported" and drops its message; "other"
		// is as final and shows the command to run. The token cargo login
		// was given is dropped unread.
		return Fail(ErrOther, ManagedMessage(req.Kind, resp.Profile))
	}
	return Fail(ErrOperationNotSupported, fmt.Sprintf("lanyard does not know the request kind %q", req.Kind))
}
