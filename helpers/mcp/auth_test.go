package mcp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/config"
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

// scopedTokens stands in for the agent: a login (an interactive request)
// mints "wide" when the profiles file gives profile p the admin scope,
// else every answer is "narrow".
type scopedTokens struct {
	path   string
	logins atomic.Int64
}

func (s *scopedTokens) Resolve(_ context.Context, req *wire.Request) (*wire.Response, error) {
	if !req.Interactive {
		return &wire.Response{Status: wire.StatusOK, Token: "narrow"}, nil
	}
	s.logins.Add(1)
	cfg, err := config.Load(s.path)
	if err != nil {
		return &wire.Response{Status: wire.StatusError, Message: err.Error()}, nil
	}
	if slices.Contains(cfg.Profiles["p"].Scopes, "mcp:admin") {
		return &wire.Response{Status: wire.StatusOK, Token: "wide"}, nil
	}
	return &wire.Response{Status: wire.StatusOK, Token: "narrow"}, nil
}

// TestBearerStepUpOnce: a 403 insufficient_scope naming scopes the
// profile lacks adds them to the profiles file, logs in once and sends
// the request again once; a server that still refuses gets no third
// request, and no later 403 starts another step-up. Without a browser,
// or for another 403, nothing changes and the 403 goes to the client.
func TestBearerStepUpOnce(t *testing.T) {
	const profile = `[profiles.p]
issuer = "https://idp.example.com"
grant = "authorization_code"
client_id = "c"
client_auth = "none"
scopes = ["mcp:tools"]
`
	for _, tt := range []struct {
		name                string
		interactive         bool
		challenge, accept   string
		want                int
		requests, logins    int64
		wantScopes, wantErr string
	}{
		{"step-up accepted", true, `Bearer error="insufficient_scope", scope="mcp:tools mcp:admin"`, "wide", http.StatusOK, 2, 1, `scopes = ["mcp:tools", "mcp:admin"]`, "added them to profile"},
		{"refused after the step-up", true, `Bearer error="insufficient_scope", scope="mcp:tools mcp:admin"`, "never", http.StatusForbidden, 2, 1, `scopes = ["mcp:tools", "mcp:admin"]`, "added them to profile"},
		{"no browser", false, `Bearer error="insufficient_scope", scope="mcp:admin"`, "wide", http.StatusForbidden, 1, 0, `scopes = ["mcp:tools"]`, "run: lanyard login p"},
		{"scopes the profile has", true, `Bearer error="insufficient_scope", scope="mcp:tools"`, "wide", http.StatusForbidden, 1, 0, `scopes = ["mcp:tools"]`, "already asks for"},
		{"not a scope challenge", true, `Bearer error="invalid_request"`, "wide", http.StatusForbidden, 1, 0, `scopes = ["mcp:tools"]`, ""},
		{"a scope that is not a scope-token", true, `Bearer error="insufficient_scope", scope="a\"b"`, "wide", http.StatusForbidden, 1, 0, `scopes = ["mcp:tools"]`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(profile), 0o600); err != nil {
				t.Fatal(err)
			}
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if body, _ := io.ReadAll(r.Body); string(body) != "{}" {
					t.Errorf("got body %q, want {}", body)
				}
				if r.Header.Get("Authorization") != "Bearer "+tt.accept {
					w.Header().Set("WWW-Authenticate", tt.challenge)
					w.WriteHeader(http.StatusForbidden)
				}
			}))
			defer srv.Close()
			u, _ := url.Parse(srv.URL + "/mcp")
			tok := &scopedTokens{path: path}
			var stderr strings.Builder
			hc := httpClient(&bearer{origin: mcpauth.Origin(u), base: http.DefaultTransport, stderr: &stderr,
				tokens:    &tokens{resolver: tok, profile: "p", resource: mcpauth.CanonicalResource(u), interactive: tt.interactive},
				addScopes: func(s []string) ([]string, error) { return config.AddScopes(path, "p", s) }})
			resp, err := hc.Post(u.String(), "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || requests.Load() != tt.requests || tok.logins.Load() != tt.logins {
				t.Errorf("got %d after %d requests and %d logins, want %d after %d and %d", resp.StatusCode, requests.Load(), tok.logins.Load(), tt.want, tt.requests, tt.logins)
			}
			if data, _ := os.ReadFile(path); !strings.Contains(string(data), tt.wantScopes) {
				t.Errorf("profiles file lacks %s:\n%s", tt.wantScopes, data)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantErr)
			}
			// A later 403 is the client's: no second step-up, no loop.
			if resp.StatusCode == http.StatusForbidden {
				before := requests.Load()
				resp, err := hc.Post(u.String(), "application/json", strings.NewReader("{}"))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := requests.Load() - before; resp.StatusCode != http.StatusForbidden || got != 1 || tok.logins.Load() != tt.logins {
					t.Errorf("second call: got %d after %d requests, %d logins; want 403 after 1, %d", resp.StatusCode, got, tok.logins.Load(), tt.logins)
				}
			}
		})
	}
}
