package testprovider

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// tokenCase is one row of the emulator tables: a request and what must come back.
type tokenCase struct {
	name    string
	req     req
	status  int
	errCode string                      // for non-200
	check   func(t *testing.T, r reply) // for 200
}

func runCases(t *testing.T, cases []tokenCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.req)
			if c.status != http.StatusOK {
				wantErr(t, r, c.status, c.errCode)
				return
			}
			wantOK(t, r)
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

func wantKeys(t *testing.T, r reply, present string, absent string) {
	t.Helper()
	for _, k := range strings.Fields(present) {
		if _, ok := r.body[k]; !ok {
			t.Errorf("missing %q in %s", k, r.raw)
		}
	}
	for _, k := range strings.Fields(absent) {
		if _, ok := r.body[k]; ok {
			t.Errorf("unexpected %q in %s", k, r.raw)
		}
	}
}

func TestWhenFresh(t *testing.T) {
	e, err := StartWhenFresh()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	d := do(t, req{method: http.MethodGet, url: e.URL + "/.well-known/openid-configuration"})
	if d.status != 200 || d.str("token_endpoint") != e.TokenURL || d.str("authorization_endpoint") != e.IDURL+"/oauth2/authorize" {
		t.Fatalf("discovery: %d %s", d.status, d.raw)
	}
	if api, _ := url.Parse(e.URL); strings.Contains(e.TokenURL, api.Host) {
		t.Fatalf("token endpoint must be on another host: %s vs %s", e.TokenURL, e.URL)
	}

	rt := e.IssueRefreshToken()
	dev := func(extra ...string) url.Values {
		v := url.Values{"client_id": {WhenFreshDeveloperClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	basic := [2]string{e.MachineClientID, e.MachineClientSecret}
	cc := url.Values{"grant_type": {"client_credentials"}}
	runCases(t, []tokenCase{
		{name: "refresh happy", req: req{url: e.TokenURL, form: dev()}, status: 200, check: func(t *testing.T, r reply) {
			wantKeys(t, r, "id_token access_token expires_in token_type", "refresh_token scope")
			if r.body["expires_in"] != 3600.0 || r.str("token_type") != "Bearer" || !e.Valid(r.str("access_token")) || !e.Valid(r.str("id_token")) {
				t.Fatalf("bad answer %s", r.raw)
			}
			if strings.Count(r.str("id_token"), ".") != 2 {
				t.Fatalf("id_token is not a JWT")
			}
		}},
		{name: "refresh token not rotated, reusable", req: req{url: e.TokenURL, form: dev()}, status: 200},
		{name: "refresh with Basic header", req: req{url: e.TokenURL, form: dev(), basic: [2]string{WhenFreshDeveloperClientID, ""}}, status: 401, errCode: "invalid_client"},
		{name: "refresh with client_secret", req: req{url: e.TokenURL, form: dev("client_secret", "x")}, status: 401, errCode: "invalid_client"},
		{name: "refresh wrong client_id", req: req{url: e.TokenURL, form: dev("client_id", "other")}, status: 401, errCode: "invalid_client"},
		{name: "refresh without client_id", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}}, status: 401, errCode: "invalid_client"},
		{name: "refresh unknown token", req: req{url: e.TokenURL, form: dev("refresh_token", "nope")}, status: 400, errCode: "invalid_grant"},
		{name: "refresh as JSON", req: req{url: e.TokenURL, json: map[string]string{"client_id": WhenFreshDeveloperClientID, "grant_type": "refresh_token", "refresh_token": rt}}, status: 400, errCode: "invalid_request"},
		{name: "refresh as multipart", req: req{url: e.TokenURL, multipart: dev()}, status: 400, errCode: "invalid_request"},
		{name: "client_credentials Basic", req: req{url: e.TokenURL, form: cc, basic: basic}, status: 200, check: func(t *testing.T, r reply) {
			wantKeys(t, r, "access_token expires_in token_type", "refresh_token id_token")
			if r.body["expires_in"] != 3600.0 || r.str("token_type") != "Bearer" || !e.Valid(r.str("access_token")) {
				t.Fatalf("bad answer %s", r.raw)
			}
		}},
		{name: "client_credentials secret in body", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"client_credentials"}, "client_id": {e.MachineClientID}, "client_secret": {e.MachineClientSecret}}}, status: 401, errCode: "invalid_client"},
		{name: "client_credentials Basic and body secret", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"client_credentials"}, "client_secret": {e.MachineClientSecret}}, basic: basic}, status: 401, errCode: "invalid_client"},
		{name: "client_credentials wrong secret", req: req{url: e.TokenURL, form: cc, basic: [2]string{e.MachineClientID, "no"}}, status: 401, errCode: "invalid_client"},
		{name: "client_credentials as JSON", req: req{url: e.TokenURL, json: map[string]string{"grant_type": "client_credentials"}, basic: basic}, status: 400, errCode: "invalid_request"},
		{name: "password grant unsupported", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"password"}}}, status: 400, errCode: "unsupported_grant_type"},
		{name: "no grant_type", req: req{url: e.TokenURL, form: url.Values{"client_id": {WhenFreshDeveloperClientID}}}, status: 400, errCode: "invalid_request"},
	})
	if n := e.TokenRequests(); n != 16 {
		t.Fatalf("TokenRequests = %d, want 16", n)
	}
	if s := stats(t, e.URL); s.TokenRequests != 16 || s.ReuseDetections != 0 {
		t.Fatalf("stats %+v", s)
	}

	// Protected API, RevokeAllAccessTokens and TTL.
	r := do(t, req{url: e.TokenURL, form: dev()})
	if apiGet(t, e.URL+"/v1/things", r.str("access_token")) != 200 || apiGet(t, e.URL+"/v1/things", "") != 401 {
		t.Fatal("protected API")
	}
	e.RevokeAllAccessTokens()
	if e.Valid(r.str("access_token")) || e.Valid(r.str("id_token")) || apiGet(t, e.URL+"/v1/things", r.str("access_token")) != 401 {
		t.Fatal("revoked token still valid")
	}
	e.SetAccessTTL(time.Second)
	r = do(t, req{url: e.TokenURL, form: dev()})
	if r.body["expires_in"] != 1.0 || !e.Valid(r.str("access_token")) {
		t.Fatalf("ttl: %s", r.raw)
	}
	time.Sleep(1100 * time.Millisecond)
	if e.Valid(r.str("access_token")) {
		t.Fatal("expired token valid")
	}
}
