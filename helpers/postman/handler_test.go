package postman

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// profilesTOML is the profiles file of the tests: api gets tokens from the
// test OP, badsecret is refused by it, needslogin and browser need a person.
func profilesTOML(issuer string) string {
	return strings.ReplaceAll(`
[profiles.api]
issuer = "ISSUER"
grant = "client_credentials"
client_id = "lanyard-confidential"
client_secret = "env:LANYARD_TEST_OP_SECRET"

[profiles.badsecret]
issuer = "ISSUER"
grant = "client_credentials"
client_id = "lanyard-confidential"
client_secret = "env:LANYARD_TEST_WRONG_SECRET"

[profiles.needslogin]
issuer = "ISSUER"
grant = "refresh_token"
client_id = "lanyard-cli"

[profiles.browser]
issuer = "ISSUER"
grant = "authorization_code"
client_id = "lanyard-cli"
redirect_uri = "http://127.0.0.1/callback"
scopes = ["openid", "offline_access"]
`, "ISSUER", issuer)
}

func startOP(t *testing.T, ttl time.Duration) *testprovider.OP {
	t.Helper()
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	return op
}

// testEnv is an isolated lanyard environment with the profiles file written.
func testEnv(t *testing.T, bin string, op *testprovider.OP) *testbin.Env {
	t.Helper()
	env := testbin.NewEnv(t, bin)
	env.Set("LANYARD_TEST_OP_SECRET", op.ConfidentialClientSecret)
	env.Set("LANYARD_TEST_WRONG_SECRET", "not-the-secret")
	env.WriteConfig(t, profilesTOML(op.Issuer))
	return env
}

// TestHandlerSecurity is the serve security table: each refusal has its
// documented status, says no-store, and carries no token.
func TestHandlerSecurity(t *testing.T) {
	op := startOP(t, 5*time.Minute)
	env := testEnv(t, t.TempDir(), op)
	var log bytes.Buffer
	h := &Handler{
		Key:      testKey,
		Resolver: agent.InProcess(env.Getenv, io.Discard, false),
		Log:      &log,
	}
	do := func(method, host, path string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://127.0.0.1:8477"+path, nil)
		r.Host = host
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	key := map[string]string{KeyHeader: testKey}

	// The good request first, so the table can check no refusal leaks it.
	w := do("GET", "127.0.0.1:8477", "/token/api", key)
	if w.Code != 200 {
		t.Fatalf("GET /token/api: got %d %s, want 200", w.Code, w.Body)
	}
	var tok TokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	if !op.Valid(tok.AccessToken) || tok.TokenType != "Bearer" || time.Until(tok.ExpiresAt) < time.Minute {
		t.Fatalf("got %+v (valid at the OP: %v), want a valid Bearer token expiring in ~5m", tok, op.Valid(tok.AccessToken))
	}
	var shape map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &shape)
	if len(shape) != 3 {
		t.Errorf("token response has keys %v, want exactly access_token, token_type, expires_at", shape)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}

	cases := []struct {
		name         string
		method, host string
		path         string
		hdr          map[string]string
		status       int
		code         string
		says         string
	}{
		{"missing key", "GET", "127.0.0.1:8477", "/token/api", nil, 401, CodeKey, "missing"},
		{"wrong key", "GET", "127.0.0.1:8477", "/token/api", map[string]string{KeyHeader: "wrong"}, 401, CodeKey, "wrong"},
		{"origin set", "GET", "127.0.0.1:8477", "/token/api", map[string]string{KeyHeader: testKey, "Origin": "https://evil.example"}, 403, CodeBrowser, "Origin"},
		{"host evil.example", "GET", "evil.example", "/token/api", key, 403, CodeHost, "Host"},
		{"host evil.example:port", "GET", "evil.example:8477", "/token/api", key, 403, CodeHost, "Host"},
		{"post", "POST", "127.0.0.1:8477", "/token/api", key, 405, CodeMethod, "GET"},
		{"unknown path", "GET", "127.0.0.1:8477", "/tokens", key, 404, CodeNotFound, "/token/PROFILE"},
		{"unknown profile", "GET", "127.0.0.1:8477", "/token/nope", key, 404, CodeNotFound, `profile "nope" not found`},
		{"unknown profile without key", "GET", "127.0.0.1:8477", "/token/nope", nil, 401, CodeKey, "missing"},
		{"needs login (refresh_token)", "GET", "127.0.0.1:8477", "/token/needslogin", key, 409, CodeLoginRequired, "run: lanyard login needslogin"},
		{"needs login (authorization_code)", "GET", "127.0.0.1:8477", "/token/browser", key, 409, CodeLoginRequired, "run: lanyard login browser"},
		{"token endpoint refuses", "GET", "127.0.0.1:8477", "/token/badsecret", key, 502, CodeToken, "client_secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(c.method, c.host, c.path, c.hdr)
			if w.Code != c.status {
				t.Errorf("got status %d, want %d (%s)", w.Code, c.status, w.Body)
			}
			body := w.Body.String()
			if strings.Contains(body, tok.AccessToken) || strings.Contains(body, testKey) {
				t.Errorf("refusal carries the token or key: %s", body)
			}
			var e ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if e.Error != c.code || !strings.Contains(e.Description, c.says) {
				t.Errorf("got %+v, want error %q with a description saying %q", e, c.code, c.says)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			if c.status == 405 && w.Header().Get("Allow") != "GET" {
				t.Errorf("Allow: got %q, want GET", w.Header().Get("Allow"))
			}
		})
	}
	if strings.Contains(log.String(), tok.AccessToken) || strings.Contains(log.String(), testKey) {
		t.Errorf("the request log holds the token or key:\n%s", log.String())
	}
	if !strings.Contains(log.String(), `GET "/token/api" 200`) {
		t.Errorf("the request log lacks the request line:\n%s", log.String())
	}
}

// TestHandlerCachesTokens: a second request is answered from the cache, no
// second token request reaches the OP.
func TestHandlerCachesTokens(t *testing.T) {
	op := startOP(t, 5*time.Minute)
	env := testEnv(t, t.TempDir(), op)
	srv := httptest.NewServer(&Handler{
		Key:      testKey,
		Resolver: agent.InProcess(env.Getenv, io.Discard, false),
	})
	defer srv.Close()
	get := func() string {
		req, _ := http.NewRequest("GET", srv.URL+"/token/api", nil)
		req.Header.Set(KeyHeader, testKey)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok TokenResponse
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %d, %v", resp.StatusCode, err)
		}
		return tok.AccessToken
	}
	a, b := get(), get()
	if a != b || op.TokenRequests() != 1 {
		t.Errorf("two requests: same token %v, %d token requests; want the cached token and 1 request", a == b, op.TokenRequests())
	}
}
