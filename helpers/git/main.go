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
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/desktop"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/redact"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// DefaultUsername is the username handed to git when the profile sets no
// git_username. Servers that take an OAuth token as the Basic password
// ignore it; GitHub App tokens need git_username = "x-access-token".
const DefaultUsername = "oauth2"

// MaxRequest bounds what is read from git: far above anything git sends
// (a few WWW-Authenticate headers), far below what would hurt.
const MaxRequest = 8 << 20

const usage = `usage: git-credential-lanyard [--profile NAME] [--interactive] [--debug] get|store|erase|capability

git runs this helper; configure it with:
  lanyard setup git [--global] PROFILE
or by hand:
  git config --global credential.helper lanyard                     (pick the profile by its match prefixes)
  git config --global credential.https://HOST.helper 'lanyard --profile NAME'   (pin one profile to a host; it still needs match)

  get         print the token for the URL git names: username and password, or
              with git 2.46+ and git_auth, authtype=Bearer and credential
  erase       forget the cached access token git was refused with (the refresh token stays)
  store       do nothing (lanyard keeps its own cache)
  capability  list the protocol capabilities lanyard understands (authtype, state)

  --profile NAME   use this profile instead of picking one by match (it answers only for URLs its match serves)
  --interactive    allow an interactive login when a terminal is available
  --debug          log to stderr what lanyard does (tokens redacted); also LANYARD_DEBUG=1
`

// Main runs git-credential-lanyard and returns its exit code. r answers
// the token requests: nil means the agent (internal/agent/client); tests
// pass the in-process handler.
//
// Exit codes: 0 when the request was answered, or when no profile serves the
// URL (no output, so git asks its next helper); 1 when a profile serves the
// URL but no token can be had (the reason and the command to run are on
// stderr; git then asks its next helper, and prompts if none answers);
// 2 for a bad command line.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, r wire.Resolver) int {
	fs := flag.NewFlagSet("git-credential-lanyard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	profile := fs.String("profile", "", "")
	interactive := fs.Bool("interactive", false, "")
	debug := fs.Bool("debug", env.Env(getenv).Debug(), "")
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

	if r == nil {
		r = client.New(getenv, stderr, *debug)
	}
	h := &handler{r: r, req: req, profile: *profile, stdin: stdin, stdout: stdout, stderr: stderr, log: log, getenv: getenv}
	// No signal handling: this process holds nothing to clean up (a refresh
	// runs in the agent and survives us), and installing handlers costs a
	// measurable share of a cache hit.
	ctx := context.Background()
	if verb == "erase" {
		err = h.erase(ctx)
	} else {
		// --interactive is the default now; the flag stays for old configs.
		_ = *interactive
		err = h.get(ctx)
	}
	if err != nil {
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
	r       wire.Resolver
	req     Request
	profile string
	// stdin and stderr are the caller's streams: a terminal on either
	// allows a login there (tty.Caller).
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	getenv func(string) string
	// place is where this runs (desktop.Read), read when a login is needed.
	place *desktop.Decision
}

// where says where this runs and how a browser opens there, read once and
// only on the way to a login: a cache hit never looks.
func (h *handler) where() desktop.Decision {
	if h.place == nil {
		d := desktop.Decide(desktop.Read(h.getenv))
		h.place = &d
	}
	return *h.place
}

// loginMode decides, once the agent says a login is needed, how it may
// run. git's credential.interactive is read only here.
func (h *handler) loginMode(ctx context.Context) LoginMode {
	c := tty.Caller{Stdin: h.stdin, Stderr: h.stderr, Refused: refusedByEnv(h.getenv) || gitForbidsPrompts(ctx)}
	mode := DecideLogin(c.Refused, c.CanPrompt(), h.where())
	h.log.Debug("login needed", "mode", mode, "place", h.where().Place)
	return mode
}

// ask sends git's request to the resolver; a nil response means no profile
// serves the URL (git then asks its next helper).
func (h *handler) ask(ctx context.Context, wreq *wire.Request) (*wire.Response, error) {
	wreq.Tool, wreq.Profile, wreq.URL = wire.ToolGit, h.profile, h.req.URL()
	resp, err := h.r.Resolve(ctx, wreq)
	if err != nil {
		return nil, err
	}
	switch resp.Status {
	case wire.StatusOK:
		return resp, nil
	case wire.StatusNoMatch:
		h.log.Debug("no profile serves this URL", "url", h.req.URL(), "pinned", h.profile)
		return nil, nil
	case wire.StatusLoginRequired:
		msg := resp.Message
		if hint := remoteLoginHint(h.where(), resp.Profile); hint != "" {
			msg += "\nlanyard: " + hint
		}
		return nil, &loginRequired{profile: resp.Profile, msg: msg}
	}
	return nil, errors.New(resp.Message)
}

func (h *handler) get(ctx context.Context) error {
	resp, err := h.ask(ctx, &wire.Request{Op: wire.OpGet})
	var lr *loginRequired
	if errors.As(err, &lr) {
		mode := h.loginMode(ctx)
		if mode == NoLogin {
			return err
		}
		// Ask again, allowed to log in: the first request stays as cheap
		// as a cache hit.
		wreq := &wire.Request{Op: wire.OpGet, Interactive: mode == TerminalLogin}
		if mode == AgentBrowserLogin {
			wreq.BrowserLogin, wreq.Browser = true, h.getenv("BROWSER")
			fmt.Fprintf(h.stderr, "lanyard: profile %q needs a login: opening a browser (lanyard waits for it up to the profile's login_timeout)\n", lr.profile)
		}
		resp, err = h.ask(ctx, wreq)
	}
	if err == nil && resp == nil && h.profile == "" {
		// No profile serves this host: say which preset would, if the
		// server's challenge names a forge.
		hintForge(env.Env(h.getenv).StateDir(), h.req, time.Now(), h.stderr)
	}
	if err != nil || resp == nil {
		return err
	}
	a := Answer(h.req, resp.Profile, resp.GitUsername, resp.GitAuth, resp.Token, resp.Expiry)
	out, err := a.Format()
	if err != nil {
		return fmt.Errorf("profile %q: %w", resp.Profile, err)
	}
	h.log.Debug("get", "profile", resp.Profile, "url", h.req.URL(), "bearer", a.Bearer != "", "token", redact.Secret(resp.Token), "expiry", resp.Expiry)
	_, err = h.stdout.Write(out)
	return err
}

// erase drops the token git was refused with, only when it is still the
// profile's current one: a newer token another git process fetched
// meanwhile stays, and so does the refresh token. A credential lanyard did
// not hand out (another helper's) matches no token and is left alone.
func (h *handler) erase(ctx context.Context) error {
	e := h.req.Erase()
	if e.Secret == "" {
		h.log.Debug("erase: no credential named")
		return nil
	}
	wreq := &wire.Request{Op: wire.OpErase, Rejected: wire.Fingerprint(e.Secret)}
	if e.Ours {
		wreq.IssuedBy = e.Profile
	}
	resp, err := h.ask(ctx, wreq)
	if err != nil || resp == nil {
		return err
	}
	if e.Ours && e.Profile != resp.Profile {
		h.log.Debug("erase: not a credential of this profile", "profile", resp.Profile, "state", e.Profile)
		return nil
	}
	ours := resp.Dropped || e.Ours
	h.log.Debug("erase", "profile", resp.Profile, "url", h.req.URL(), "ours", ours, "bearer", e.Bearer)
	if hint := RefusedHint(e, h.req); ours && hint != "" {
		fmt.Fprintf(h.stderr, "lanyard: profile %q (%s): %s\n", resp.Profile, resp.Source, hint)
	}
	return nil
}

// loginRequired is the agent's login_required answer: no token without a
// person logging in.
type loginRequired struct{ profile, msg string }

func (e *loginRequired) Error() string { return e.msg }
