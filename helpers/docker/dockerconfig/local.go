// Package dockerconfig is the part of docker-credential-lanyard that runs inside
// lanyard-engine: store and list (they need the profiles file and the
// engine) and the docker config.json editing of lanyard setup docker.
package dockerconfig

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lanyardhq/lanyard/helpers/docker"
	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/env"
)

// Main is docker-credential-lanyard answering everything in-process:
// get and erase through the agent's handler, store and list through Local.
// lanyard-engine runs it for the actions the thin helper passes on, and
// tests call it directly.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	r := agent.InProcess(getenv, stderr, env.Env(getenv).Debug())
	return docker.Main(args, stdin, stdout, stderr, getenv, r, Local)
}

// Local answers store and list, the actions that need the profiles file
// and the engine in the caller's process (docker login's password grant
// runs on the caller's terminal).
func Local(ctx context.Context, action string, stdin io.Reader, stderr io.Writer, getenv func(string) string) ([]byte, error) {
	h := &helper{getenv: getenv, stderr: stderr, debug: env.Env(getenv).Debug(), interactive: docker.MayPrompt(stderr, getenv)}
	return h.handle(ctx, action, stdin)
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
	case docker.ActionList:
		// Clients send "unused" on stdin; upstream never reads it.
		return h.list()
	case docker.ActionStore:
	default:
		return nil, fmt.Errorf("%s: %s is answered by the agent, not in-process", docker.Name, action)
	}
	in, err := docker.ReadInput(stdin)
	if err != nil {
		return nil, err
	}
	c, err := docker.ParseCredentials(in)
	if err != nil {
		return nil, err
	}
	return nil, h.store(ctx, c)
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
func (h *helper) store(ctx context.Context, c *docker.Credentials) error {
	p, err := h.resolve(c.ServerURL)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("no lanyard profile matches %s, and %s does not store registry passwords; add the registry to a profile's match list, or take %s out of credHelpers in docker's config.json to keep a password there", c.ServerURL, docker.Name, c.ServerURL)
	}
	if c.Username == docker.IdentityTokenUsername {
		return fmt.Errorf("the registry %s issued an identity token, which %s does not store: profile %q mints this registry's credentials (run: lanyard login %s)", c.ServerURL, docker.Name, p.Name, p.Name)
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
		if t != nil && c.Secret != "" && subtle.ConstantTimeCompare([]byte(engine.Handout(t, p).Value), []byte(c.Secret)) == 1 {
			h.logf("store %s: the credentials are profile %q's current token; nothing to store", c.ServerURL, p.Name)
			return nil
		}
	}
	return fmt.Errorf("%s does not store registry passwords: profile %q mints the credentials for %s, so docker, crane and skopeo need no docker login; to log in to the profile run: lanyard login %s", docker.Name, p.Name, c.ServerURL, p.Name)
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
			key, ok := docker.ServerKey(m)
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
	return docker.FormatList(out), nil
}

// resolve picks the profile serving a server address, or nil.
func (h *helper) resolve(server string) (*config.Profile, error) {
	cfg, err := h.config()
	if err != nil {
		return nil, err
	}
	p := Resolve(cfg, server)
	if p == nil {
		h.logf("%s: no profile matches (tried %s)", server, strings.Join(docker.ServerURLs(server), ", "))
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
		fmt.Fprintf(h.stderr, docker.Name+": "+format+"\n", args...)
	}
}

// username is what get answers as Username for p.
func username(p *config.Profile) string {
	if p.DockerUsername != "" {
		return p.DockerUsername
	}
	return docker.DefaultUsername
}
