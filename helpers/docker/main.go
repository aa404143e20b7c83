package docker

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"golang.org/x/term"
)

// Version is what the version verb prints; cmd/docker-credential-lanyard
// sets it from its -X main.version link flag.
var Version = "dev"

// Main runs one helper call and returns the exit code: 0, or 1 with the
// error printed on stdout, as docker-credential-helpers' Serve does.
// args are the arguments after the program name; getenv is os.Getenv or a
// test's environment.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) != 1 {
		fmt.Fprintln(stdout, Usage())
		return 1
	}
	switch args[0] {
	case "--version", "-v":
		_, _ = stdout.Write(FormatVersion(Version))
		return 0
	case "--help", "-h":
		fmt.Fprintln(stdout, Usage())
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &helper{getenv: getenv, stderr: stderr, debug: engine.DebugFromEnv(getenv), interactive: isTerminal(stderr)}
	out, err := h.handle(ctx, args[0], stdin)
	if err != nil {
		// Protocol rule: errors go to stdout, where the client reads them.
		fmt.Fprintln(stdout, err)
		return 1
	}
	_, _ = stdout.Write(out)
	return 0
}

// helper answers one call. Configuration and engine open lazily: version,
// list and unknown servers never touch the keyring.
type helper struct {
	getenv      func(string) string
	stderr      io.Writer
	debug       bool
	interactive bool

	cfg *config.File
	eng *engine.Engine
}

func (h *helper) handle(ctx context.Context, action string, stdin io.Reader) ([]byte, error) {
	switch action {
	case ActionVersion:
		return FormatVersion(Version), nil
	case ActionList:
		// Clients send "unused" on stdin; upstream never reads it.
		return h.list()
	case ActionGet, ActionErase, ActionStore:
	default:
		return nil, unknownActionError(action)
	}
	in, err := readInput(stdin)
	if err != nil {
		return nil, err
	}
	switch action {
	case ActionGet:
		server, err := ParseServerURL(in)
		if err != nil {
			return nil, err
		}
		return h.get(ctx, server)
	case ActionErase:
		server, err := ParseServerURL(in)
		if err != nil {
			return nil, err
		}
		return nil, h.erase(ctx, server)
	default:
		c, err := ParseCredentials(in)
		if err != nil {
			return nil, err
		}
		return nil, h.store(ctx, c)
	}
}

func readInput(stdin io.Reader) ([]byte, error) {
	in, err := io.ReadAll(io.LimitReader(stdin, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("could not read the request on stdin: %w", err)
	}
	if len(in) > MaxInput {
		return nil, fmt.Errorf("the request on stdin is larger than %d bytes; send a server URL or one credentials JSON object", MaxInput)
	}
	return in, nil
}

// get answers with the profile's fresh token, or not-found for a server no
// profile matches (the client then goes on anonymously).
func (h *helper) get(ctx context.Context, server string) ([]byte, error) {
	p, err := h.resolve(server)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, ErrCredentialsNotFound
	}
	user := username(p)
	if user == identityTokenUsername {
		return nil, fmt.Errorf("profile %q: docker_username %q makes clients treat the token as a registry identity token; remove docker_username or set another name in %s:%d", p.Name, user, p.File, p.Line)
	}
	eng, err := h.engine()
	if err != nil {
		return nil, err
	}
	t, err := eng.Token(ctx, p, engine.Options{Interactive: h.interactive})
	if err != nil {
		return nil, err
	}
	h.logf("get %s: profile %q, token %s valid until %s", server, p.Name, engine.Redact(engine.Value(t, p)), engine.Expiry(t, p).Format("15:04:05"))
	return FormatCredentials(Credentials{ServerURL: server, Username: user, Secret: engine.Value(t, p)}), nil
}

// erase is what a client calls when the registry rejected the credentials
// (or on docker logout): the cached access token goes, the refresh token
// stays, and the next get mints a new one.
func (h *helper) erase(ctx context.Context, server string) error {
	p, err := h.resolve(server)
	if err != nil {
		return err
	}
	if p == nil {
		return ErrCredentialsNotFound
	}
	eng, err := h.engine()
	if err != nil {
		return err
	}
	h.logf("erase %s: dropping the cached access token of profile %q (to log out: lanyard logout %s)", server, p.Name, p.Name)
	return eng.Invalidate(ctx, p, "")
}

// store is called by docker login. lanyard mints registry credentials and
// never stores registry passwords, so a username and password are refused,
// with two exceptions:
//   - the profile uses the password grant and the username is its
//     username: the password logs in to the token endpoint (it is used
//     once and not stored; the tokens are);
//   - the credentials are the ones get just handed out, which docker login
//     stores back after checking them ("Authenticating with existing
//     credentials"): nothing to do.
func (h *helper) store(ctx context.Context, c *Credentials) error {
	p, err := h.resolve(c.ServerURL)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("no lanyard profile matches %s, and %s does not store registry passwords; add the registry to a profile's match list, or take %s out of credHelpers in docker's config.json to keep a password there", c.ServerURL, Name, c.ServerURL)
	}
	if c.Username == identityTokenUsername {
		return fmt.Errorf("the registry %s issued an identity token, which %s does not store: profile %q mints this registry's credentials (run: lanyard login %s)", c.ServerURL, Name, p.Name, p.Name)
	}
	if p.Grant == config.GrantPassword {
		if c.Username != p.Username {
			return fmt.Errorf("profile %q logs in as %q, not %q; docker login -u %s (the password is used for the password grant and not stored), or change username in %s:%d", p.Name, p.Username, c.Username, p.Username, p.File, p.Line)
		}
		eng, err := h.engine()
		if err != nil {
			return err
		}
		if _, err := eng.Login(ctx, p, engine.LoginOptions{Password: c.Secret}); err != nil {
			return err
		}
		h.logf("store %s: logged in to profile %q with the password grant; the password was not stored", c.ServerURL, p.Name)
		return nil
	}
	if c.Username == username(p) {
		eng, err := h.engine()
		if err != nil {
			return err
		}
		t, err := eng.Cached(p)
		if err != nil {
			return err
		}
		if t != nil && c.Secret != "" && subtle.ConstantTimeCompare([]byte(engine.Value(t, p)), []byte(c.Secret)) == 1 {
			h.logf("store %s: the credentials are profile %q's current token; nothing to store", c.ServerURL, p.Name)
			return nil
		}
	}
	return fmt.Errorf("%s does not store registry passwords: profile %q mints the credentials for %s, so docker, crane and skopeo need no docker login; to log in to the profile run: lanyard login %s", Name, p.Name, c.ServerURL, p.Name)
}

// list reports, for every match prefix of every profile, the server
// address docker would ask for and the username get would answer with. It
// reads only the profiles file: no keyring, no network, no secrets.
func (h *helper) list() ([]byte, error) {
	cfg, err := h.config()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range cfg.Names() {
		for _, m := range cfg.Profiles[name].Match {
			key, ok := ServerKey(m)
			if !ok {
				continue
			}
			if _, seen := out[key]; seen {
				continue
			}
			// The profile that get will pick for this key, which for a
			// host shared by several profiles is the one claiming the host.
			if p, _ := h.resolve(key); p != nil {
				out[key] = username(p)
			}
		}
	}
	return FormatList(out), nil
}

// resolve picks the profile serving a server address, or nil.
func (h *helper) resolve(server string) (*config.Profile, error) {
	cfg, err := h.config()
	if err != nil {
		return nil, err
	}
	p := Resolve(cfg, server)
	if p == nil {
		h.logf("%s: no profile matches (tried %s)", server, strings.Join(ServerURLs(server), ", "))
		return nil, nil
	}
	h.logf("%s: profile %q matches", server, p.Name)
	return p, nil
}

// config loads the profiles file once. No file means no profiles: every
// server is unknown, and clients go on without credentials.
func (h *helper) config() (*config.File, error) {
	if h.cfg != nil {
		return h.cfg, nil
	}
	path := config.Path(h.getenv)
	cfg, err := config.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		h.logf("no profiles file at %s", path)
		h.cfg = &config.File{Path: path, Profiles: map[string]*config.Profile{}}
		return h.cfg, nil
	}
	if err != nil {
		return nil, err
	}
	h.cfg = cfg
	return cfg, nil
}

func (h *helper) engine() (*engine.Engine, error) {
	if h.eng != nil {
		return h.eng, nil
	}
	eng, err := engine.New(h.getenv, h.stderr, h.debug)
	if err != nil {
		return nil, err
	}
	// stdin carried the request and belongs to the protocol: a paste-mode
	// login must never read it.
	eng.Stdin = strings.NewReader("")
	h.eng = eng
	return eng, nil
}

func (h *helper) logf(format string, args ...any) {
	if h.debug {
		fmt.Fprintf(h.stderr, Name+": "+format+"\n", args...)
	}
}

// username is what get answers as Username for p.
func username(p *config.Profile) string {
	if p.DockerUsername != "" {
		return p.DockerUsername
	}
	return DefaultUsername
}

// isTerminal reports whether w is a terminal. The client owns stdin (the
// request) and stdout (the answer); a person, if any, sees stderr, so only
// then may a login open a browser or ask.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
