package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/metrics"
)

// Options are an agent's settings besides what it reads from Getenv.
type Options struct {
	Getenv func(string) string
	// Stderr receives the debug log.
	Stderr io.Writer
	Debug  bool
	// Ready is told "ok" once the agent listens (or another agent that
	// won the race answers), else why it could not start: the starting
	// helper waits for it, as git's credential-cache waits for "ok".
	Ready func(msg string)
	// MetricsListen is where to serve /metrics (lanyard agent run
	// --metrics-listen; else LANYARD_AGENT_METRICS_LISTEN; "" none).
	MetricsListen string
}

// Run is the agent's life: listen on the socket, serve until stopped or
// idle, then stop taking requests, finish those in flight and give up the
// socket.
func Run(ctx context.Context, o Options) error {
	ready := o.Ready
	if ready == nil {
		ready = func(string) {}
	}
	vars := env.Env(o.Getenv)
	idle, err := vars.AgentIdle()
	if err != nil {
		ready(err.Error())
		return err
	}
	recent, err := vars.RefreshAhead()
	if err != nil {
		ready(err.Error())
		return err
	}
	path, err := vars.SocketPath()
	if err != nil {
		ready(err.Error())
		return err
	}
	ln, closeLn, err := Listen(path)
	if errors.Is(err, ErrRunning) {
		// Another helper started an agent at the same moment: wait for it
		// to answer, then report ready on its behalf.
		err = waitForAgent(ctx, client.New(o.Getenv, o.Stderr, o.Debug), 5*time.Second)
		if err == nil {
			ready("ok")
		}
		return err
	}
	if err != nil {
		ready(err.Error())
		return err
	}
	defer closeLn()
	auditLog := audit.Open(vars.AuditPath())
	defer auditLog.Close()
	stats := metrics.New(func() float64 { n, _ := auditLog.Failures(); return float64(n) })
	addr := o.MetricsListen
	if addr == "" {
		addr = vars.MetricsListen()
	}
	stopMetrics, err := stats.Serve(addr)
	if err != nil {
		ready(err.Error())
		return err
	}
	defer stopMetrics()
	h := &Handler{Getenv: o.Getenv, Recent: recent, Audit: auditLog, Metrics: stats, Open: func() (*engine.Engine, error) {
		eng, err := engine.New(o.Getenv, o.Stderr, o.Debug)
		if err != nil {
			return nil, err
		}
		eng.Stdin = strings.NewReader("") // the agent never reads a terminal
		eng.OnShared = stats.Shared
		return eng, nil
	}}
	srv := &Server{Idle: idle, Pending: h.Pending, Audit: auditLog, Metrics: stats}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := make(chan struct{})
	go func() { h.RefreshAhead(actx); close(ahead) }()
	srv.Serve(ln, h, path)
	ready("ok")
	if o.Debug {
		fmt.Fprintf(o.Stderr, "lanyard: agent listening on %s (pid %d)\n", path, os.Getpid())
	}
	srv.Wait(actx)
	// Stop taking requests, let the ones in flight (and a refresh that has
	// started) finish, then give up the socket lock: a new agent may start.
	ln.Close()
	cancel()
	srv.Drain(30 * time.Second)
	<-ahead
	return nil
}

// waitForAgent waits, bounded, until an agent answers a ping.
func waitForAgent(ctx context.Context, cl *client.Client, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if _, err := cl.Ask(ctx, &wire.Request{Op: wire.OpPing}); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("another lanyard agent holds the socket lock but does not answer: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
