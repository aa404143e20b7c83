package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	envpkg "github.com/lanyardhq/lanyard/internal/env"
)

// AgentCmd groups the agent's commands (docs/agent.md).
type AgentCmd struct {
	Start   AgentStartCmd   `cmd:"" help:"Start the agent in the background unless one runs (helpers start it on their own)."`
	Stop    AgentStopCmd    `cmd:"" help:"Stop the running agent."`
	Status  AgentStatusCmd  `cmd:"" help:"Show the agent: pid, uptime, socket, and per profile what it holds."`
	Run     AgentRunCmd     `cmd:"" help:"Run the agent in the foreground (for a systemd or launchd service)."`
	Metrics AgentMetricsCmd `cmd:"" help:"Print the agent's counters in the Prometheus text format."`
	Forward AgentForwardCmd `cmd:"" help:"Open an extra socket that serves only some profiles, for ssh -R, containers and WSL."`
	Oneshot AgentOneshotCmd `cmd:"" hidden:"" help:"Answer one agent request on stdin/stdout in-process (LANYARD_AGENT=off)."`
}

// AgentStartCmd starts a detached agent.
type AgentStartCmd struct {
	MetricsListen string `name:"metrics-listen" placeholder:"ADDR" help:"Serve the agent's metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464)."`
}

// Run starts the agent unless one answers.
func (c *AgentStartCmd) Run(ctx context.Context, env *Env) error {
	cl := client.New(env.Getenv, env.Stderr, env.Debug)
	if resp, err := cl.Ask(ctx, &wire.Request{Op: wire.OpPing}); err == nil && resp.Agent != nil {
		fmt.Fprintf(env.Stderr, "lanyard: the agent already runs (pid %d, %s)\n", resp.Agent.PID, resp.Agent.Socket)
		return nil
	}
	path, err := envpkg.Env(env.Getenv).SocketPath()
	if err != nil {
		return err
	}
	if c.MetricsListen != "" {
		cl.Environ = func() []string { return append(os.Environ(), envpkg.MetricsListenVar+"="+c.MetricsListen) }
	}
	if err := cl.Start(path); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "lanyard: agent started on %s\n", path)
	return nil
}

// AgentStopCmd stops the agent.
type AgentStopCmd struct{}

// Run asks the agent to exit; no agent is not an error.
func (c *AgentStopCmd) Run(ctx context.Context, env *Env) error {
	_, err := client.New(env.Getenv, env.Stderr, env.Debug).Ask(ctx, &wire.Request{Op: wire.OpStop})
	if errors.Is(err, client.ErrNoAgent) {
		fmt.Fprintln(env.Stderr, "lanyard: no agent is running")
		return nil
	}
	return err
}

// AgentStatusCmd prints the agent's state.
type AgentStatusCmd struct{}

// Run prints the agent's state, or that none runs.
func (c *AgentStatusCmd) Run(ctx context.Context, env *Env) error {
	st, err := agentStatus(ctx, env)
	if err != nil {
		return err
	}
	printAgentStatus(env.Stdout, st, env.Getenv)
	return nil
}

// agentStatus asks the running agent for its state; nil when none runs.
func agentStatus(ctx context.Context, env *Env) (*wire.AgentStatus, error) {
	if envpkg.Env(env.Getenv).AgentOff() {
		return nil, nil
	}
	resp, err := client.New(env.Getenv, env.Stderr, env.Debug).Ask(ctx, &wire.Request{Op: wire.OpStatus})
	if errors.Is(err, client.ErrNoAgent) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if resp.Status != wire.StatusOK || resp.Agent == nil {
		return nil, fmt.Errorf("the agent answered %s: %s", resp.Status, resp.Message)
	}
	return resp.Agent, nil
}

func printAgentStatus(w io.Writer, st *wire.AgentStatus, getenv func(string) string) {
	if st == nil {
		path, _ := envpkg.Env(getenv).SocketPath()
		switch {
		case envpkg.Env(getenv).AgentOff():
			fmt.Fprintln(w, "agent: off (LANYARD_AGENT=off): every call runs in-process")
		default:
			fmt.Fprintf(w, "agent: not running (socket %s); the first helper call starts it\n", path)
		}
		return
	}
	fmt.Fprintf(w, "agent: pid %d, up %s, socket %s\n", st.PID, time.Since(st.Started).Round(time.Second), st.Socket)
	if st.Refused > 0 {
		fmt.Fprintf(w, "agent: refused %d connections (another user's, or too many at once)\n", st.Refused)
	}
	printAuditFailures(w, st)
	if len(st.Profiles) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tIN MEMORY\tEXPIRES\tNEXT REFRESH AHEAD\tLAST ERROR")
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format(time.RFC3339)
	}
	for _, p := range st.Profiles {
		mem := "no"
		if p.InMemory {
			mem = "yes"
		}
		last := p.LastError
		if last == "" {
			last = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, mem, at(p.Expiry), at(p.NextRefresh), last)
	}
	_ = tw.Flush()
}

// forgetInAgent tells a running agent to drop what it holds in memory for
// profile (after a logout or a new login); no agent is fine.
func forgetInAgent(ctx context.Context, env *Env, profile string) {
	// Even with LANYARD_AGENT=off for this command: an agent started by
	// other callers must not keep serving the old token.
	if runtime.GOOS == "windows" {
		return
	}
	_, err := client.New(env.Getenv, env.Stderr, env.Debug).Ask(ctx, &wire.Request{Op: wire.OpForget, Profile: profile})
	var untrusted *client.SecurityError
	// A socket we would not trust was not made by an agent of ours.
	if err != nil && !errors.Is(err, client.ErrNoAgent) && !errors.As(err, &untrusted) {
		fmt.Fprintf(env.Stderr, "lanyard: the running agent may still hand out %s's old token until it expires: %v (run: lanyard agent stop)\n", profile, err)
	}
}

// AgentRunCmd is the agent process.
type AgentRunCmd struct {
	ReadyFD       int    `name:"ready-fd" hidden:"" help:"Write ok (or why not) to this descriptor once listening."`
	MetricsListen string `name:"metrics-listen" placeholder:"ADDR" help:"Serve the agent's metrics at http://ADDR/metrics (default: $LANYARD_AGENT_METRICS_LISTEN)."`
	PassphraseFD  int    `name:"passphrase-fd" hidden:"" help:"Read the keyring passphrase from this descriptor."`
}

// Run listens on the agent socket and serves until stopped or idle.
func (c *AgentRunCmd) Run(ctx context.Context, env *Env) error {
	ready := func(string) {}
	if c.ReadyFD > 0 {
		f := os.NewFile(uintptr(c.ReadyFD), "ready")
		ready = func(msg string) {
			if f != nil {
				_, _ = io.WriteString(f, msg+"\n")
				f.Close()
				f = nil
			}
		}
		defer ready("the agent exited before listening")
	}
	getenv := env.Getenv
	if c.PassphraseFD > 0 {
		f := os.NewFile(uintptr(c.PassphraseFD), "passphrase")
		b, err := io.ReadAll(io.LimitReader(f, 64<<10))
		f.Close()
		if err != nil {
			ready(err.Error())
			return err
		}
		if pass := string(b); pass != "" {
			getenv = func(k string) string {
				if k == "LANYARD_KEYRING_PASSPHRASE" {
					return pass
				}
				return env.Getenv(k)
			}
		}
	}
	return agent.Run(ctx, agent.Options{Getenv: getenv, Stderr: env.Stderr, Debug: env.Debug, Ready: ready, MetricsListen: c.MetricsListen})
}

// AgentOneshotCmd answers one request in-process.
type AgentOneshotCmd struct{}

// Run reads one wire request on stdin and writes the response on stdout:
// what helpers run when the agent is off or a login needs the caller's
// terminal.
func (c *AgentOneshotCmd) Run(ctx context.Context, env *Env) error {
	req, err := wire.ReadRequest(env.Stdin)
	if err != nil {
		return fmt.Errorf("agent oneshot: %w", err)
	}
	resp, err := agent.InProcess(env.Getenv, env.Stderr, env.Debug).Resolve(ctx, req)
	if err != nil {
		resp = &wire.Response{Status: wire.StatusError, Message: err.Error()}
	}
	return wire.WriteResponse(env.Stdout, resp)
}
