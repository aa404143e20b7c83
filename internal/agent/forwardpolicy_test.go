package agent

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// A forward's client gets the configured token and nothing more (issue 23
// #4): min_ttl and forced refreshes cost at most one token request per
// forwardRefreshEvery, use = id_token is ignored, erase needs the refused
// token's fingerprint, and errors reveal no path of the agent's machine.
func TestForwardCannotSteerTheAgent(t *testing.T) {
	f := newFixture(t, &Server{}, "p")
	fwd := &Forwarder{Agent: client.New(f.env.Getenv, io.Discard, false), Profiles: []string{"p"}}
	ask := func(req *wire.Request) *wire.Response {
		t.Helper()
		resp, err := fwd.Resolve(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first := ask(&wire.Request{Op: wire.OpGet, Tool: wire.ToolToken, Profile: "p"})
	if first.Status != wire.StatusOK {
		t.Fatalf("got %s %s", first.Status, first.Message)
	}
	if first.Source != "" || first.EnvDigest != "" {
		t.Errorf("a forward's answer names where the profile is defined (%q) or digests the agent's environment (%q)", first.Source, first.EnvDigest)
	}
	before := f.op.TokenRequests()
	for i := 0; i < 25; i++ {
		for _, req := range []*wire.Request{
			{Op: wire.OpGet, Tool: wire.ToolToken, Profile: "p", MinTTL: 24 * time.Hour},
			{Op: wire.OpGet, Tool: wire.ToolToken, Profile: "p", ForceRefresh: true},
			{Op: wire.OpGet, Tool: wire.ToolToken, Profile: "p", Use: "id_token"},
			{Op: wire.OpGet, Tool: wire.ToolToken, Profile: "p", ForceRefresh: true, Rejected: wire.Fingerprint(first.Token)},
		} {
			if resp := ask(req); resp.Status != wire.StatusOK || resp.Token == "" {
				t.Fatalf("%+v: got %s %s", req, resp.Status, resp.Message)
			}
		}
	}
	if n := f.op.TokenRequests() - before; n > 1 {
		t.Errorf("100 steering requests through a forward made %d token requests; want at most 1 per %s", n, forwardRefreshEvery)
	}
	if resp := ask(&wire.Request{Op: wire.OpErase, Tool: wire.ToolToken, Profile: "p"}); resp.Status == wire.StatusOK {
		t.Errorf("erase without a fingerprint: got ok")
	}
	bad := ask(&wire.Request{Op: wire.OpGet, Tool: wire.ToolToken, Profile: "nope"})
	if bad.Status == wire.StatusOK || strings.Contains(bad.Message, f.env.ConfigPath) || strings.Contains(bad.Message, f.env.Home) {
		t.Errorf("unknown profile through a forward: %s %q; want a refusal that names no path", bad.Status, bad.Message)
	}
}
