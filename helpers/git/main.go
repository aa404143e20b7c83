package git

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// DefaultUsername is the username handed to git when the profile sets no
// git_username. Servers that take an OAuth token as the Basic password
// ignore it; GitHub App tokens need git_username = "x-access-token".
const DefaultUsername = "oauth2"

// MaxRequest bounds what is read from git: far above anything git sends
// (a few WWW-Authenticate headers), far below what would hurt.
const MaxRequest = 8 << 20

const usage = `usage: git-credential-lanyard [--profile NAME] [--interactive] [--debug] get|store|erase

git runs this helper; configure it with:
  lanyard setup git [--global] PROFILE
or by hand:
  git config --global credential.helper lanyard                     (pick the profile by its match prefixes)
  git config --global credential.https://HOST.helper 'lanyard --profile NAME'   (pin one profile to a host; it still needs match)

  get      print the token for the URL git names: username and password, or
           with git 2.46+ and git_auth, authtype=Bearer and credential
  capability  list the capabilities lanyard understands (authtype, state)
  erase    forget the cached access token git was refused with (the refresh token stays)
  store    do nothing (lanyard keeps its own cache)

  --profile NAME   use this profile instead of picking one by match (it answers only for URLs its match serves)
  --interactive    allow an interactive login when a terminal is available
  --debug          log to stderr what lanyard does (tokens redacted); also LANYARD_DEBUG=1
`

// Main runs git-credential-lanyard and returns its exit code.
//
// Exit codes: 0 when the request was answered, or when no profile serves the
// URL (no output, so git asks its next helper); 1 when a profile serves the
// URL but no token can be had (the reason and the command to run are on
// stderr; git then asks its next helper, and prompts if none answers);
// 2 for a bad command line.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("git-credential-lanyard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	profile := fs.String("profile", "", "")
	interactive := fs.Bool("interactive", false, "")
	debug := fs.Bool("debug", engine.DebugFromEnv(getenv), "")
	// git runs "git credential-lanyard --profile P get": flags come before
	// the verb; accept them after it too, for people typing by hand.
	if err := fs.Parse(args); err != nil {
		return badUsage(stderr, err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return badUsage(stderr, errors.New("missing operation (get, store or erase)"))
	}
	verb := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return badUsage(stderr, err)
	}

	log := slog.New(slog.DiscardHandler)
	if *debug {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if verb == "capability" {
		// git-credential(1), "CAPABILITY INPUT/OUTPUT FORMAT": no request
		// to read.
		_, err := io.WriteString(stdout, Capabilities)
		if err != nil {
			fmt.Fprintf(stderr, "lanyard: %v\n", err)
			return 1
		}
		return 0
	}
	// Read the whole request before anything else: git writes it all, then
	// waits for the answer.
	data, err := readRequest(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return 1
	}
	req := ParseRequest(data)

	switch verb {
	case "get", "erase":
	case "store":
		// lanyard keeps its own cache; what git offers to store is the
		// token it got from us (or another helper's secret: not ours).
		return 0
	default:
		// gitcredentials(7): a helper ignores operations it does not know.
		log.Debug("ignoring unknown operation", "operation", verb)
		return 0
	}

	h := &handler{req: req, profile: *profile, interactive: *interactive, debug: *debug,
		stdout: stdout, stderr: stderr, getenv: getenv, log: log}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := h.run(ctx, verb); err != nil {
		fmt.Fprintf(stderr, "lanyard: %v\n", err)
		return 1
	}
	return 0
}

func badUsage(stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, usage)
		return 0
	}
	fmt.Fprintf(stderr, "git-credential-lanyard: %v\n%s", err, usage)
	return 2
}

// readRequest reads key=value lines up to a blank line or EOF, at most
// MaxRequest bytes.
func readRequest(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxRequest+1))
	var buf bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		buf.Write(line)
		if buf.Len() > MaxRequest {
			return nil, fmt.Errorf("the credential request from git is larger than %d MiB; this is not a request git sends", MaxRequest>>20)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return buf.Bytes(), nil
			}
			return nil, fmt.Errorf("could not read the credential request from git: %w", err)
		}
		if s := bytes.TrimRight(line, "\r\n"); len(s) == 0 {
			return buf.Bytes(), nil
		}
	}
}

type handler struct {
	req         Request
	profile     string
	interactive bool
	debug       bool
	stdout      io.Writer
	stderr      io.Writer
	getenv      func(string) string
	log         *slog.Logger
}

func (h *handler) run(ctx context.Context, verb string) error {
	p, err := h.selectProfile()
	if err != nil || p == nil {
		return err
	}
	eng, err := engine.New(h.getenv, h.stderr, h.debug)
	if err != nil {
		return err
	}
	// The engine must never read git's stdin (paste-mode logins read from
	// the terminal instead, when one is allowed).
	eng.Stdin = strings.NewReader("")
	if verb == "erase" {
		return h.erase(ctx, eng, p)
	}

	opt := engine.Options{}
	if h.interactive && !promptsDisabled(h.getenv) {
		if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
			defer tty.Close()
			opt.Interactive = true
			eng.Stdin, eng.UI = tty, tty
		} else {
			h.log.Debug("--interactive without a terminal: not logging in", "err", err)
		}
	}
	tok, err := eng.Token(ctx, p, opt)
	if err != nil {
		return err
	}
	a := Answer(h.req, p.Name, p.GitUsername, p.GitAuth, engine.Value(tok, p), engine.Expiry(tok, p))
	out, err := a.Format()
	if err != nil {
		return fmt.Errorf("profile %q: %w", p.Name, err)
	}
	h.log.Debug("get", "profile", p.Name, "url", h.req.URL(), "bearer", a.Bearer != "", "token", engine.Redact(engine.Value(tok, p)), "expiry", engine.Expiry(tok, p))
	_, err = h.stdout.Write(out)
	return err
}

// erase drops the token git was refused with, only when it is lanyard's
// own (see Request.Erase) and still the cached one: a newer token another
// git process fetched meanwhile stays, and so does the refresh token.
func (h *handler) erase(ctx context.Context, eng *engine.Engine, p *config.Profile) error {
	e := h.req.Erase()
	if e.Secret == "" || (e.Ours && e.Profile != p.Name) {
		h.log.Debug("erase: not a credential of this profile", "profile", p.Name, "state", e.Profile)
		return nil
	}
	ours := e.Ours
	if !ours {
		cached, err := eng.Cached(p)
		ours = err == nil && cached != nil && engine.Value(cached, p) == e.Secret
	}
	h.log.Debug("erase", "profile", p.Name, "url", h.req.URL(), "ours", ours, "bearer", e.Bearer)
	if err := eng.Invalidate(ctx, p, e.Secret); err != nil {
		return err
	}
	if hint := RefusedHint(e, h.req); ours && hint != "" {
		fmt.Fprintf(h.stderr, "lanyard: profile %q (%s:%d): %s\n", p.Name, p.File, p.Line, hint)
	}
	return nil
}

// selectProfile returns the profile that serves the request, or nil (and
// no error) when none does: git then asks its next helper.
func (h *handler) selectProfile() (*config.Profile, error) {
	u := h.req.URL()
	path := config.Path(h.getenv)
	cfg, err := config.Load(path)
	if h.profile == "" && errors.Is(err, os.ErrNotExist) {
		// credential.helper = lanyard set globally before any profile
		// exists: stay out of git's way.
		h.log.Debug("no profiles file", "path", path)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if h.profile == "" {
		p := cfg.Match(u)
		if p == nil {
			h.log.Debug("no profile matches", "url", u)
		}
		return p, nil
	}
	p, err := cfg.Profile(h.profile)
	if err != nil {
		return nil, err
	}
	// A pinned profile serves only its match prefixes: a helper line set
	// for every host must not hand this token to all.
	if err := p.Serves(u); err != nil {
		if errors.Is(err, config.ErrNotMatched) {
			h.log.Debug("pinned profile does not match", "profile", p.Name, "url", u)
			return nil, nil
		}
		return nil, err
	}
	return p, nil
}

// promptsDisabled reports GIT_TERMINAL_PROMPT=0 (git's own switch for "never
// ask on the terminal"); lanyard honors it too.
func promptsDisabled(getenv func(string) string) bool {
	v := getenv("GIT_TERMINAL_PROMPT")
	return v != "" && !engine.EnvBool(v)
}
