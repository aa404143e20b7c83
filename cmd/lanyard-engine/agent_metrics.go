package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/metrics"
)

// metricsListenVar passes --metrics-listen from lanyard agent start to the
// agent it starts (read in serveMetrics only).
const metricsListenVar = "LANYARD_AGENT_METRICS_LISTEN"

// AgentMetricsCmd prints the running agent's counters.
type AgentMetricsCmd struct{}

// Run asks the agent for its metrics; no agent is an error (nothing to show).
func (c *AgentMetricsCmd) Run(ctx context.Context, env *Env) error {
	resp, err := client.New(env.Getenv, env.Stderr, env.Debug).Ask(ctx, &wire.Request{Op: wire.OpMetrics})
	if errors.Is(err, client.ErrNoAgent) {
		return errors.New("no lanyard agent is running; its metrics start with it (lanyard agent start)")
	}
	if err != nil {
		return err
	}
	if resp.Status != wire.StatusOK {
		return fmt.Errorf("the agent answered %s: %s", resp.Status, resp.Message)
	}
	_, err = io.WriteString(env.Stdout, resp.Metrics)
	return err
}

// serveMetrics serves m at http://addr/metrics (addr: the flag, else
// LANYARD_AGENT_METRICS_LISTEN; none: nothing) and returns what stops it.
func serveMetrics(addr string, getenv func(string) string, m *metrics.Metrics) (func(), error) {
	if addr == "" {
		addr = getenv(metricsListenVar)
	}
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
