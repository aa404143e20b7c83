package agent

import (
	"context"
	"io"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// A caller whose environment differs from the agent's in what its
// profile reads (issue 23 #3: a second CI job with another
// DEPLOY_CLIENT_SECRET) is not served the token the agent minted with its
// starter's values: it is answered in its own process, with its own.
func TestCallerWithAnotherSecretIsNotServedTheAgentsToken(t *testing.T) {
	f := newFixture(t, &Server{}, "p")
	same := client.New(f.env.Getenv, io.Discard, false)
	if resp, err := same.Resolve(context.Background(), getToken("p")); err != nil || resp.Status != wire.StatusOK {
		t.Fatalf("the agent's own environment: got %+v, %v", resp, err)
	}
	other := func(name string) string {
		if name == secretVar {
			return "another-job's-secret"
		}
		return f.env.Getenv(name)
	}
	c := client.New(other, io.Discard, false)
	c.Local = InProcess(other, io.Discard, false)
	resp, err := c.Resolve(context.Background(), getToken("p"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status == wire.StatusOK {
		t.Fatalf("a caller with another client secret got the agent's token (%s); want its own request, which the provider refuses", wire.Fingerprint(resp.Token))
	}
}
