package main

// Security findings of issue 13, each reproduced with the built binary.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTokenValuesAreValidated: a token endpoint that puts a newline in
// access_token or token_type must not add a variable to --format env or a
// header to --format header; nothing is stored, so the next call asks again.
func TestTokenValuesAreValidated(t *testing.T) {
	tests := []struct {
		name, body, format, field string
	}{
		{"env injection", `{"access_token":"abc\nLD_PRELOAD=/tmp/evil.so","token_type":"Bearer","expires_in":3600}`, "env", "access_token"},
		{"header injection", `{"access_token":"abc","token_type":"Bearer\r\nX-Injected: 1","expires_in":3600}`, "header", "token_type"},
		{"terminal escape", `{"access_token":"abc\u001b]0;owned\u0007","expires_in":3600}`, "raw", "access_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			env := newEnv(t)
			env.Set("LANYARD_TEST_SECRET", "s")
			env.WriteConfig(t, fmt.Sprintf("[profiles.p]\ngrant = \"client_credentials\"\ntoken_url = %q\nclient_id = \"c\"\nclient_secret = \"env:LANYARD_TEST_SECRET\"\n", srv.URL+"/token"))
			for range 2 {
				out, stderr, code := run(t, env, "", "token", "p", "--format", tt.format)
				if code == 0 || out != "" {
					t.Fatalf("got exit %d stdout %q, want a failure and no output", code, out)
				}
				if !strings.Contains(stderr, tt.field) || !strings.Contains(stderr, "not printable ASCII") {
					t.Errorf("stderr %q does not name %s as not printable", stderr, tt.field)
				}
				if strings.Contains(stderr, "LD_PRELOAD") || strings.Contains(stderr, "owned") || strings.Contains(stderr, "X-Injected") {
					t.Errorf("stderr %q repeats the server's value", stderr)
				}
			}
			if n := requests.Load(); n != 2 {
				t.Errorf("token requests: got %d, want 2 (nothing was stored)", n)
			}
		})
	}
}
