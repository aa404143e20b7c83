package agent

import (
	"fmt"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// A forward's client (a remote host's root, a container) may get the
// profile's configured token and nothing more: it cannot pick the ID
// token, make the agent refresh at will, erase without naming the token a
// server refused, or learn the agent machine's paths and commands.
const (
	// forwardMaxMinTTL clamps a forward's min_ttl: a larger one would make
	// every request a token request.
	forwardMaxMinTTL = 5 * time.Minute
	// forwardRefreshEvery: a forward causes at most one refresh per profile
	// in this long; within it, a token still good is the answer.
	forwardRefreshEvery = 10 * time.Second
)

// forwardRequest is req as a forward may ask it: the configured use, a
// clamped min_ttl, a forced refresh only with the refused token's
// fingerprint. A non-nil response refuses it.
func forwardRequest(req *wire.Request) (*wire.Request, *wire.Response) {
	fwd := *req
	fwd.Use = ""
	fwd.MinTTL = min(max(fwd.MinTTL, 0), forwardMaxMinTTL)
	if fwd.Rejected == "" {
		fwd.ForceRefresh = false
	}
	if fwd.Op == wire.OpErase && fwd.Rejected == "" {
		return nil, &wire.Response{Status: wire.StatusError, Message: "a forwarding socket erases only the token a server refused; send its fingerprint"}
	}
	return &fwd, nil
}

// forwardAnswer hides what a forward's client must not learn: where the
// profile is defined, and the agent's own error text (a profiles-file
// path, a failing cmd: secret's command line).
//
// Nor the environment check: a forward's callers have no profiles file
// and never mint a token themselves, and digests of the agent's secrets
// are not theirs to see.
func forwardAnswer(resp *wire.Response, profile string) *wire.Response {
	resp.Source = ""
	resp.EnvNames, resp.EnvDigest = nil, ""
	switch resp.Status {
	case wire.StatusOK, wire.StatusNoMatch:
	case wire.StatusBadConfig:
		resp.Message = fmt.Sprintf("profile %q not found on this forward", profile)
	case wire.StatusLoginRequired:
		resp.Message = fmt.Sprintf("profile %q needs a login on the agent's machine; run there: lanyard login %s", profile, profile)
	default:
		resp.Message = fmt.Sprintf("the agent could not get a token for profile %q; see lanyard agent status on the agent's machine", profile)
		if profile == "" {
			resp.Message = "the agent could not answer; see lanyard agent status on the agent's machine"
		}
	}
	return resp
}

// forwardMayRefresh reports whether a forward's request may cost a token
// request for profile now (at most one per forwardRefreshEvery), and if so
// starts the next period.
func (h *Handler) forwardMayRefresh(profile string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entryLocked(profile)
	now := h.now()
	if now.Before(e.forwardNext) {
		return false
	}
	e.forwardNext = now.Add(forwardRefreshEvery)
	return true
}
