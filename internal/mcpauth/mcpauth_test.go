package mcpauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
)

// fixture is an MCP server that wants a token and its authorization
// server, both real HTTP servers on 127.0.0.1.
type fixture struct {
	mcp, as    *httptest.Server
	prmHeader  bool   // name the metadata in WWW-Authenticate
	prmRes     string // resource the metadata claims ("" = the server's)
	asIssuer   string // issuer the AS metadata claims ("" = its own)
	registered map[string]any
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{prmHeader: true}
	f.as = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			iss := f.asIssuer
			if iss == "" {
				iss = f.as.URL
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": f.as.URL + "/authorize",
				"token_endpoint": f.as.URL + "/token", "registration_endpoint": f.as.URL + "/register"})
		case "/register":
			_ = json.NewDecoder(r.Body).Decode(&f.registered)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"client_id": "dyn-123", "client_secret": "must-not-be-kept"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.as.Close)
	f.mcp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-protected-resource/mcp":
			res := f.prmRes
			if res == "" {
				res = f.mcp.URL + "/mcp"
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"resource": res, "authorization_servers": []string{f.as.URL}, "scopes_supported": []string{"tools"}})
		case "/mcp":
			ch := `Bearer error="invalid_token"`
			if f.prmHeader {
				ch += `, resource_metadata="` + f.mcp.URL + `/.well-known/oauth-protected-resource/mcp"`
			}
			w.Header().Set("WWW-Authenticate", ch)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.mcp.Close)
	return f
}

func TestDiscoverAndRegister(t *testing.T) {
	for _, header := range []bool{true, false} {
		f := newFixture(t)
		f.prmHeader = header
		s, err := Discover(context.Background(), http.DefaultClient, f.mcp.URL+"/mcp")
		if err != nil {
			t.Fatalf("header=%v: %v", header, err)
		}
		if s.Resource != f.mcp.URL+"/mcp" || s.Issuer != f.as.URL || strings.Join(s.Scopes, " ") != "tools" {
			t.Errorf("got %+v", s)
		}
		id, err := Register(context.Background(), http.DefaultClient, s)
		if err != nil || id != "dyn-123" {
			t.Fatalf("got %q, %v", id, err)
		}
		if f.registered["token_endpoint_auth_method"] != "none" {
			t.Errorf("registered %v, want a public client (token_endpoint_auth_method none)", f.registered)
		}
		if uris, _ := f.registered["redirect_uris"].([]any); len(uris) != 1 || uris[0] != RedirectURI {
			t.Errorf("registered redirect_uris %v, want [%s]", f.registered["redirect_uris"], RedirectURI)
		}
		u, _ := url.Parse(f.mcp.URL + "/mcp")
		text := s.NewProfile(ProfileName(u), u.String(), id).TOML(time.Now())
		if strings.Contains(text, "must-not-be-kept") || strings.Contains(text, "client_secret") {
			t.Errorf("the profile holds a secret:\n%s", text)
		}
		cfg, err := config.Parse("config.toml", []byte(text))
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		p := cfg.Profiles[ProfileName(u)]
		if p == nil || p.ClientID != "dyn-123" || p.ClientAuth != "none" || p.PKCE != "S256" || p.RedirectURI != RedirectURI || len(p.Resource) != 1 || p.Resource[0] != s.Resource {
			t.Errorf("got profile %+v", p)
		}
	}
}

func TestDiscoverRefuses(t *testing.T) {
	tests := []struct {
		name string
		set  func(*fixture)
		want string
	}{
		{"metadata for another resource", func(f *fixture) { f.prmRes = "https://other.example.com/mcp" }, "RFC 9728 §3.3"},
		{"authorization server names another issuer", func(f *fixture) { f.asIssuer = "https://evil.example.com" }, "RFC 8414 §3.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.set(f)
			_, err := Discover(context.Background(), http.DefaultClient, f.mcp.URL+"/mcp")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestWellKnown(t *testing.T) {
	u, _ := url.Parse("https://mcp.example.com/v1/mcp/")
	got := strings.Join(WellKnown(u), " ")
	want := "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp https://mcp.example.com/.well-known/oauth-protected-resource"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestEnsure: the first start appends the profile, later starts reuse it
// without registering again, and a profile of that name for another
// server is refused with what to do.
func TestEnsure(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "lanyard", "config.toml")
	u, _ := url.Parse(f.mcp.URL + "/mcp")
	name, made, err := Ensure(context.Background(), http.DefaultClient, path, u)
	if err != nil || !made || name != ProfileName(u) {
		t.Fatalf("first start: got %q, %v, %v", name, made, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "# Written by lanyard mcp on ") || !strings.Contains(string(data), "For the MCP server "+u.String()) {
		t.Errorf("the profile is not marked as lanyard mcp's:\n%s", data)
	}
	f.registered = nil
	if name, made, err = Ensure(context.Background(), http.DefaultClient, path, u); err != nil || made || name != ProfileName(u) {
		t.Fatalf("second start: got %q, %v, %v", name, made, err)
	}
	if f.registered != nil {
		t.Errorf("the second start registered another client: %v", f.registered)
	}
	if after, _ := os.ReadFile(path); string(after) != string(data) {
		t.Errorf("the second start changed the profiles file:\n%s", after)
	}

	other := filepath.Join(t.TempDir(), "config.toml")
	text := "[profiles." + ProfileName(u) + "]\nissuer = \"" + f.as.URL + "\"\ngrant = \"authorization_code\"\nclient_id = \"x\"\nclient_auth = \"none\"\nresource = [\"https://elsewhere.example.com/mcp\"]\n"
	if err := os.WriteFile(other, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = Ensure(context.Background(), http.DefaultClient, other, u)
	if err == nil || !strings.Contains(err.Error(), "pass --profile, or remove that profile") || !strings.Contains(err.Error(), other+":1") {
		t.Errorf("got %v, want a refusal naming %s:1 and what to do", err, other)
	}
}
