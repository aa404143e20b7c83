// Package client is how a tool protocol reaches a token: Resolve alone
// decides whether to ask the running agent, start one, or answer without
// it (as git's credential-cache do_cache decides whether to connect, spawn
// or relay). Without an agent (LANYARD_AGENT=off, Windows, an agent that
// cannot be reached, another profiles file, or a login on the caller's
// terminal) the request goes to the in-process handler: Local when the
// caller links the engine (lanyard-engine), else a `lanyard-engine agent
// oneshot` child, which runs that same handler.
//
// It links no engine, keyring or HTTP client: a cache hit costs a thin
// helper one round trip on the socket and nothing else.
package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// Client asks the agent, or a oneshot child, for tokens. The zero value is
// not usable; use New.
type Client struct {
	Getenv func(string) string
	// Environ is the environment for lanyard-engine children (os.Environ).
	Environ func() []string
	// Stderr receives the oneshot child's prompts and messages, and the
	// debug log.
	Stderr io.Writer
	Debug  bool
	// Local answers in-process when the agent does not; nil means a
	// `lanyard-engine agent oneshot` child.
	Local wire.Resolver
	// StartTimeout bounds the wait for a new agent to listen.
	StartTimeout time.Duration
	// Timeout bounds one round trip with the agent (a refresh included).
	Timeout time.Duration
}

// New returns a client reading its settings through getenv.
func New(getenv func(string) string, stderr io.Writer, debug bool) *Client {
	return &Client{Getenv: getenv, Environ: os.Environ, Stderr: stderr, Debug: debug,
		StartTimeout: 5 * time.Second, Timeout: 3 * time.Minute}
}

// SecurityError is a socket or directory that must not be trusted; the
// helper stops rather than answering some other way.
type SecurityError struct{ Err error }

func (e *SecurityError) Error() string { return e.Err.Error() }
func (e *SecurityError) Unwrap() error { return e.Err }

// Resolve answers req: through the agent (started if needed, one retry if it
// dies mid-request), else through a oneshot child. When the agent says a
// login is needed and the caller may interact, the oneshot child runs the
// login on the caller's terminal and browser.
func (c *Client) Resolve(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	if env.Env(c.Getenv).AgentOff() {
		return c.inProcess(ctx, req)
	}
	if req.Config == "" {
		req.Config = env.Env(c.Getenv).ConfigPath()
	}
	resp, err := c.viaAgent(ctx, req)
	if err != nil {
		var se *SecurityError
		if errors.As(err, &se) || ctx.Err() != nil {
			return nil, err
		}
		c.logf("no answer from the agent (%v); answering in-process", err)
		return c.inProcess(ctx, req)
	}
	if resp.Status == wire.StatusOtherConfig {
		// Another LANYARD_CONFIG than the agent's: answer from the
		// caller's own profiles file (a second agent needs its own
		// LANYARD_AGENT_SOCK).
		c.logf("%s; answering in-process", resp.Message)
		return c.inProcess(ctx, req)
	}
	if resp.Status == wire.StatusOK && len(resp.EnvNames) > 0 && resp.EnvDigest != wire.EnvDigest(c.Getenv, resp.EnvNames) {
		// The agent minted with another environment than ours (its
		// starter's: another CI job's secret, another proxy). Ours decides:
		// a token minted with our own values, not one the agent cached.
		c.logf("profile %q: this caller's environment differs from the agent's in %s; answering in-process", resp.Profile, strings.Join(resp.EnvNames, ", "))
		own := *req
		own.ForceRefresh = true
		return c.inProcess(ctx, &own)
	}
	if resp.Status == wire.StatusLoginRequired && req.Interactive {
		c.logf("the agent says profile %q needs a login; logging in here", resp.Profile)
		return c.inProcess(ctx, req)
	}
	return resp, nil
}

// inProcess answers req without the agent: Local, else a oneshot child.
func (c *Client) inProcess(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	if c.Local != nil {
		return c.Local.Resolve(ctx, req)
	}
	return c.Oneshot(ctx, req)
}

// Ask sends req to a running agent only: no start, no fallback. It is for
// status, stop and forget, which mean nothing without an agent; ErrNoAgent
// says there is none.
func (c *Client) Ask(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	path, err := env.Env(c.Getenv).SocketPath()
	if err != nil {
		return nil, err
	}
	conn, err := c.connect(path)
	if err != nil {
		if noAgent(err) {
			return nil, ErrNoAgent
		}
		return nil, err
	}
	return c.roundTrip(ctx, conn, req)
}

// connect checks the socket at path and its directory, dials it, and
// checks that the process serving it is the socket's owner (a pinned
// socket may be another uid's: a forward mounted into a container).
func (c *Client) connect(path string) (net.Conn, error) {
	owner, err := checkSocket(path, env.Env(c.Getenv).SocketPinned())
	if err != nil {
		return nil, &SecurityError{err}
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	if err := verifyPeer(conn, owner); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// ErrNoAgent means nothing listens on the agent socket.
var ErrNoAgent = errors.New("no lanyard agent is running")

func (c *Client) viaAgent(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	path, err := env.Env(c.Getenv).SocketPath()
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 0; attempt < 2; attempt++ {
		conn, err := c.connect(path)
		if err != nil && noAgent(err) {
			if err := forwardGone(path, env.Env(c.Getenv).SocketPinned()); err != nil {
				return nil, err
			}
			c.logf("no agent at %s; starting one", path)
			if err := c.Start(path); err != nil {
				return nil, err
			}
			conn, err = c.connect(path)
		}
		if err != nil {
			return nil, err
		}
		resp, err := c.roundTrip(ctx, conn, req)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		// The agent died or was replaced mid-request: ask once more (a
		// dead agent is restarted); a refresh it had started was saved
		// or journaled, never half-done.
		c.logf("the agent did not answer (%v); trying again", err)
		last = err
	}
	return nil, last
}

// noAgent reports a dial error that means nothing listens there (no socket
// file, or a stale one from an agent that died).
func noAgent(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

func (c *Client) roundTrip(ctx context.Context, conn net.Conn, req *wire.Request) (*wire.Response, error) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(c.Timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if err := wire.WriteRequest(conn, req); err != nil {
		return nil, err
	}
	resp, err := wire.ReadResponse(conn)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return resp, err
}

// Start runs `lanyard-engine agent run` detached (a session of its own,
// stdio on /dev/null), hands it the keyring passphrase over a pipe rather
// than its environment or argv, and waits (bounded) until it listens on
// path. A concurrent start by another helper is fine: one agent wins, the
// other exits and reports ready.
func (c *Client) Start(path string) error {
	exe, err := EnginePath(c.Getenv)
	if err != nil {
		return err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	passR, passW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return err
	}
	cmd := exec.Command(exe, "agent", "run", "--ready-fd=3", "--passphrase-fd=4")
	cmd.Env = agentEnv(c.environ(), path)
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{readyW, passR}
	detach(cmd)
	err = cmd.Start()
	readyW.Close()
	passR.Close()
	if err != nil {
		passW.Close()
		return fmt.Errorf("could not start the lanyard agent (%s agent run): %w", exe, err)
	}
	_, _ = io.WriteString(passW, c.passphrase())
	passW.Close()
	_ = readyR.SetReadDeadline(time.Now().Add(c.StartTimeout))
	msg, err := io.ReadAll(io.LimitReader(readyR, 4096))
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("the lanyard agent did not listen on %s within %s; see lanyard agent status, or set LANYARD_AGENT=off", path, c.StartTimeout)
		}
		return err
	}
	go func() { _ = cmd.Wait() }() // reap it if it exits while we run
	if s := strings.TrimSpace(string(msg)); s != "ok" {
		if s == "" {
			s = "it exited without saying why"
		}
		return fmt.Errorf("the lanyard agent could not start: %s", s)
	}
	return nil
}

// passphrase is what the new agent unlocks the file keyring with:
// LANYARD_KEYRING_PASSPHRASE, else, for the file backend, what the person
// at this caller's terminal types (once: the agent keeps it in memory).
// "" lets the agent try without one (other backends need none).
func (c *Client) passphrase() string {
	e := env.Env(c.Getenv)
	if p := e.Passphrase(); p != "" {
		return p
	}
	if e.KeyringBackend() != "file" {
		return ""
	}
	t, err := tty.Open()
	if err != nil {
		return ""
	}
	defer t.Close()
	fmt.Fprint(t, "lanyard: passphrase for the encrypted token store (the agent keeps it in memory until it exits): ")
	b, err := term.ReadPassword(int(t.Fd()))
	fmt.Fprintln(t)
	if err != nil {
		return ""
	}
	return string(b)
}

// agentEnv is the detached agent's environment: the caller's, without the
// keyring passphrase (it travels over a pipe), with the socket path fixed.
func agentEnv(environ []string, path string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if strings.HasPrefix(kv, env.PassphraseVar+"=") || strings.HasPrefix(kv, env.SocketVar+"=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, env.SocketVar+"="+path)
}

func (c *Client) environ() []string {
	if c.Environ != nil {
		return c.Environ()
	}
	return os.Environ()
}

// Oneshot answers req in a `lanyard-engine agent oneshot` child: the
// engine runs in the caller's process tree, with its terminal (for an
// interactive login) and its stderr.
func (c *Client) Oneshot(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	exe, err := EnginePath(c.Getenv)
	if err != nil {
		return nil, err
	}
	var in, out bytes.Buffer
	if err := wire.WriteRequest(&in, req); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "agent", "oneshot")
	cmd.Env = c.environ()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &in, &out, c.Stderr
	runErr := cmd.Run()
	resp, err := wire.ReadResponse(&out)
	if err != nil {
		if runErr != nil {
			return nil, fmt.Errorf("%s agent oneshot: %w", exe, runErr)
		}
		return nil, fmt.Errorf("%s agent oneshot: %w", exe, err)
	}
	return resp, nil
}

func (c *Client) logf(format string, args ...any) {
	if c.Debug && c.Stderr != nil {
		fmt.Fprintf(c.Stderr, "lanyard: agent: "+format+"\n", args...)
	}
}
