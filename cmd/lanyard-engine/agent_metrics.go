package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

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
