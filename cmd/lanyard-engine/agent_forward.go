package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/confirm"
	envpkg "github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/grant"
)

// AgentForwardCmd serves a subset of profiles on an extra socket, with a
// lifetime, a person in the loop and other uids when asked
// (docs/agent.md, "Sandboxes and containers").
type AgentForwardCmd struct {
	Profiles       []string      `sep:"," help:"Profiles to serve, comma-separated."`
	Socket         string        `help:"Path of the extra socket (default: forward-PID.sock next to the agent socket), e.g. one a container mounts."`
	TTL            time.Duration `name:"ttl" help:"Close the forward after this long (its socket is removed; requests in flight finish)."`
	Confirm        bool          `help:"Ask (LANYARD_CONFIRM_PROGRAM, else ssh-askpass) before a profile's first token to each caller."`
	ConfirmTimeout time.Duration `name:"confirm-timeout" hidden:"" default:"60s" help:"How long --confirm waits for an answer (tests)."`
	AllowUID       []uint32      `name:"allow-uid" help:"Also serve callers of this uid (a container's root: 0); repeat or comma-separate."`
	List           bool          `help:"List the running forwards: ID, profiles, remaining time, uses."`
	Close          string        `help:"End the forward with this ID now."`
}

// Run opens the socket, prints its path, and forwards requests to the agent
// until interrupted or the TTL ends; or lists or closes forwards.
func (c *AgentForwardCmd) Run(ctx context.Context, env *Env) error {
	main, err := envpkg.Env(env.Getenv).SocketPath()
	if err != nil {
		return err
	}
	dir := agent.ForwardsDir(main)
	switch {
	case c.List:
		return listForwards(ctx, env, dir)
	case c.Close != "":
		return closeForward(ctx, env, dir, c.Close)
	case len(c.Profiles) == 0:
		return errors.New("lanyard agent forward needs --profiles a,b (or --list, --close ID)")
	case c.TTL < 0:
		return fmt.Errorf("--ttl %s: give a positive duration such as 8h", c.TTL)
	}
	path := c.Socket
	if path == "" {
		path = filepath.Join(filepath.Dir(main), fmt.Sprintf("forward-%d.sock", os.Getpid()))
		if err := os.MkdirAll(filepath.Dir(main), 0o700); err != nil {
			return err
		}
	}
	ln, err := agent.ListenForward(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer ln.Close()
	if len(c.AllowUID) > 0 {
		// Other uids must reach the socket; the peer check on every
		// connection is what keeps everyone else out.
		if err := os.Chmod(path, 0o666); err != nil {
			return err
		}
	}
	id := agent.NewForwardID()
	rec := agent.Forward{ID: id, PID: os.Getpid(), Socket: path, Profiles: c.Profiles, Started: time.Now(), AllowUIDs: c.AllowUID, Confirm: c.Confirm}
	ttl := ""
	if c.TTL > 0 {
		rec.Expires, ttl = rec.Started.Add(c.TTL), c.TTL.String()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.TTL)
		defer cancel()
	}
	remove, err := agent.SaveForward(dir, rec)
	if err != nil {
		return err
	}
	defer remove()
	log := audit.Open(envpkg.Env(env.Getenv).AuditPath())
	defer log.Close()
	srv := &agent.Server{AllowUIDs: c.AllowUID, Audit: log, Forward: id}
	if c.Confirm {
		srv.Confirm = &confirm.Asker{Program: confirm.Program(envpkg.Env(env.Getenv).ConfirmProgram()), Timeout: c.ConfirmTimeout}
	}
	srv.Serve(ln, &agent.Forwarder{Agent: client.New(env.Getenv, env.Stderr, env.Debug), Profiles: c.Profiles}, path)
	log.Record(audit.Event{Kind: audit.KindForwardOpen, Forward: id, Via: path, Profiles: c.Profiles, TTL: ttl})
	fmt.Fprintln(env.Stdout, path)
	until := "until interrupted"
	if ttl != "" {
		until = "for " + ttl
	}
	fmt.Fprintf(env.Stderr, "lanyard: forward %s: profiles %s on %s %s; on the remote host or in the container set LANYARD_AGENT_SOCK to the forwarded path\n", id, strings.Join(c.Profiles, ","), path, until)
	srv.Wait(ctx)
	// Take no new caller (the socket goes at once), let those in flight finish.
	ln.Close()
	os.Remove(path)
	srv.Drain(30 * time.Second)
	why := "interrupted"
	if c.TTL > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "ttl"
	}
	log.Record(audit.Event{Kind: audit.KindForwardClose, Forward: id, Via: path, Profiles: c.Profiles, Reason: why})
	return nil
}

// askForward sends req to the forward's socket; nil when it does not answer.
func askForward(ctx context.Context, env *Env, f agent.Forward, req *wire.Request) *wire.AgentStatus {
	getenv := func(k string) string {
		if k == envpkg.SocketVar {
			return f.Socket
		}
		return env.Getenv(k)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := client.New(getenv, io.Discard, false).Ask(ctx, req)
	if err != nil || resp.Agent == nil || resp.Agent.PID != f.PID {
		return nil
	}
	return resp.Agent
}

func listForwards(ctx context.Context, env *Env, dir string) error {
	fs, err := agent.Forwards(dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPROFILES\tREMAINING\tUSES\tSOCKET")
	for _, f := range fs {
		st := askForward(ctx, env, f, &wire.Request{Op: wire.OpPing})
		if st == nil {
			agent.RemoveForward(dir, f.ID) // gone without cleaning up
			continue
		}
		left := "-"
		if !f.Expires.IsZero() {
			left = time.Until(f.Expires).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", f.ID, grant.Printable(strings.Join(f.Profiles, ",")), left, st.Uses, grant.Printable(f.Socket))
	}
	return tw.Flush()
}

func closeForward(ctx context.Context, env *Env, dir, id string) error {
	fs, err := agent.Forwards(dir)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.ID != id {
			continue
		}
		// Only a forward that answers with the recorded pid is signalled:
		// a stale record must not kill an unrelated process.
		if askForward(ctx, env, f, &wire.Request{Op: wire.OpPing}) == nil {
			agent.RemoveForward(dir, id)
			return fmt.Errorf("forward %s no longer runs", id)
		}
		if err := signalTerm(f.PID); err != nil {
			return fmt.Errorf("closing forward %s (pid %d): %w", id, f.PID, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(f.Socket); errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(env.Stderr, "lanyard: forward %s closed\n", id)
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("forward %s (pid %d) did not close within 10s", id, f.PID)
	}
	return fmt.Errorf("%w %q; lanyard agent forward --list shows them", agent.ErrNoForward, id)
}

// printAuditFailures says when the audit log could not be written.
func printAuditFailures(w io.Writer, st *wire.AgentStatus) {
	if st.AuditFailures > 0 {
		fmt.Fprintf(w, "audit: %d events could not be written (last: %s)\n", st.AuditFailures, grant.Printable(st.AuditError))
	}
}

func signalTerm(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(syscall.SIGTERM)
}
