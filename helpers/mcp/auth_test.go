package mcp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/mcpauth"
)

// fixedTokens answers every request with the next token of a list, and
// counts requests that name a rejected token.
type fixedTokens struct {
	tokens   []string
	asked    atomic.Int64
	rejected atomic.Int64
}

func (f *fixedTokens) Resolve(_ context.Context, req *wire.Request) (*wire.Response, error) {
	if req.Tool != wire.ToolMCP || req.Resource == "" {
		return &wire.Response{Status: wire.StatusError, Message: "want tool mcp with a resource"}, nil
	}
	if req.Rejected != "" {
		f.rejected.Add(1)
	}
	n := f.asked.Add(1) - 1
	if int(n) >= len(f.tokens) {
		n = int64(len(f.tokens) - 1)
	}
	return &wire.Response{Status: wire.StatusOK, Token: f.tokens[n]}, nil
}

func newBearer(t *testing.T, serverURL string, r wire.Resolver) *http.Client {
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	return httpClient(&bearer{origin: mcpauth.Origin(u), base: http.DefaultTransport,
		tokens: &tokens{resolver: r, profile: "p", resource: mcpauth.CanonicalResource(u)}})
}

// TestBearerRefusesOtherOrigins: a redirect to another origin is refused
// and the other server never sees the token.
func TestBearerRefusesOtherOrigins(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/mcp", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	hc := newBearer(t, srv.URL+"/mcp", &fixedTokens{tokens: []string{"t1"}})
	_, err := hc.Post(srv.URL+"/mcp", "application/json", strings.NewReader("{}"))
	if !errors.Is(err, ErrOtherOrigin) {
		t.Errorf("redirect to another origin: got %v, want ErrOtherOrigin", err)
	}
	if _, err := hc.Get(other.URL + "/mcp"); !errors.Is(err, ErrOtherOrigin) {
		t.Errorf("request to another origin: got %v, want ErrOtherOrigin", err)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the other origin saw the token %d times", n)
	}
}

// TestBearerRetriesOnce: a 401 gets one fresh token and one retry with the
// same body; a server that refuses that too gets no third request.
func TestBearerRetriesOnce(t *testing.T) {
	for _, tt := range []struct {
		name     string
		accept   string
		want     int
		requests int64
	}{
		{"fresh token accepted", "t2", http.StatusOK, 2},
		{"fresh token refused too", "never", http.StatusUnauthorized, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				body := make([]byte, 2)
				_, _ = r.Body.Read(body)
				if string(body) != "{}" {
					t.Errorf("got body %q, want {}", body)
				}
				if r.Header.Get("Authorization") != "Bearer "+tt.accept {
					w.WriteHeader(http.StatusUnauthorized)
				}
			}))
			defer srv.Close()
			tok := &fixedTokens{tokens: []string{"t1", "t2"}}
			resp, err := newBearer(t, srv.URL+"/mcp", tok).Post(srv.URL+"/mcp", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || requests.Load() != tt.requests || tok.rejected.Load() != 1 {
				t.Errorf("got %d after %d requests (%d rejections), want %d after %d (1)", resp.StatusCode, requests.Load(), tok.rejected.Load(), tt.want, tt.requests)
			}
		})
	}
}
