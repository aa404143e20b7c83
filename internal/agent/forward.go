package agent

import (
	"context"
	"errors"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// Forwarder answers a forwarding socket's requests through the agent,
// restricted to a set of profiles: it rewrites every request's Only, never
// lets a login run, and refuses the operations that change the agent.
type Forwarder struct {
	Agent    wire.Resolver
	Profiles []string
}

// Resolve forwards req to the agent.
func (f *Forwarder) Resolve(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	if len(f.Profiles) == 0 {
		return nil, errors.New("forwarding socket without profiles")
	}
	switch req.Op {
	case wire.OpGet, wire.OpErase, wire.OpStatus, wire.OpPing:
	default:
		return &wire.Response{Status: wire.StatusError, Message: "a forwarding socket answers get, erase, status and ping only; run lanyard agent on the agent's machine for " + req.Op}, nil
	}
	fwd := *req
	fwd.Only = append([]string(nil), f.Profiles...)
	fwd.Interactive = false
	return f.Agent.Resolve(ctx, &fwd)
}
