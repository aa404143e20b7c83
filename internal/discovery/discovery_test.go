package discovery

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// doc serves a metadata document; issuer "" means the server's own URL.
func docHandler(issuer *string, endpoints func(base string) map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host
		m := endpoints(base)
		if *issuer != "-" {
			m["issuer"] = *issuer
			if *issuer == "" {
				m["issuer"] = base
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	}
}

func stdEndpoints(base string) map[string]string {
	return map[string]string{"token_endpoint": base + "/token", "authorization_endpoint": base + "/authorize"}
}

func TestDiscoveryRedirectsAndIssuer(t *testing.T) {
	// The attacker's server: a plain-http one and an https one on another origin.
	evilIssuer := "-"
	evilHTTP := httptest.NewServer(docHandler(&evilIssuer, stdEndpoints))
	defer evilHTTP.Close()
	evilTLS := httptest.NewTLSServer(docHandler(&evilIssuer, stdEndpoints))
	defer evilTLS.Close()

	var mode string
	ownIssuer := ""
	mux := http.NewServeMux()
	mux.HandleFunc("/moved/.well-known/", docHandler(&ownIssuer, stdEndpoints))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch mode {
		case "to-http":
			http.Redirect(w, r, evilHTTP.URL+r.URL.Path, http.StatusFound)
		case "cross-origin":
			http.Redirect(w, r, evilTLS.URL+r.URL.Path, http.StatusFound)
		case "same-origin":
			http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusFound)
		default:
			docHandler(&ownIssuer, func(base string) map[string]string {
				m := stdEndpoints(base)
				if mode == "http-endpoint" {
					m["token_endpoint"] = "http://token.example.com/token"
				}
				return m
			})(w, r)
		}
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	tests := []struct {
		name, mode, issuer string
		wantErr            string // "" means success
	}{
		{"plain document", "", "", ""},
		{"no issuer in the document (WhenFresh)", "", "-", ""},
		{"same-origin https redirect", "same-origin", "", ""},
		{"redirect to http", "to-http", "", "not the same https origin"},
		{"redirect to another origin", "cross-origin", "", "not the same https origin"},
		{"issuer mix-up", "", "https://other.example.com", `names issuer "https://other.example.com"`},
		{"http endpoint", "http-endpoint", "", "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode, ownIssuer = tt.mode, tt.issuer
			dir := t.TempDir()
			r := &Resolver{HTTP: srv.Client(), Dir: dir}
			m, err := r.Get(t.Context(), srv.URL)
			cachedFiles, _ := filepath.Glob(filepath.Join(dir, "*.json"))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				if !strings.HasPrefix(m.TokenEndpoint, srv.URL) {
					t.Errorf("token endpoint %s, want one on %s", m.TokenEndpoint, srv.URL)
				}
				if len(cachedFiles) != 1 {
					t.Errorf("got %d cache files, want 1", len(cachedFiles))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v (endpoints %+v), want an error containing %q", err, m, tt.wantErr)
			}
			if len(cachedFiles) != 0 {
				t.Errorf("a refused document was cached: %v", cachedFiles)
			}
		})
	}
}

// TestDiscoveryCacheIsChecked: a cache written before the issuer check
// (or by an attacker with write access to the state directory, which the
// check cannot stop, but an old lanyard's poisoned cache it can) is not
// trusted when its issuer differs.
func TestDiscoveryCacheIsChecked(t *testing.T) {
	ownIssuer := ""
	srv := httptest.NewTLSServer(docHandler(&ownIssuer, stdEndpoints))
	defer srv.Close()
	dir := t.TempDir()
	r := &Resolver{HTTP: srv.Client(), Dir: dir}
	poisoned, _ := json.Marshal(cached{Fetched: time.Now(), Metadata: Metadata{Issuer: "https://evil.example.com", TokenEndpoint: "https://evil.example.com/token"}})
	if err := os.WriteFile(r.cachePath(srv.URL), poisoned, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := r.Get(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := srv.URL + "/token"; m.TokenEndpoint != want {
		t.Errorf("got token endpoint %s, want %s", m.TokenEndpoint, want)
	}
}
