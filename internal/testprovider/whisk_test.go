package testprovider

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func startWhisk(t *testing.T) *Whisk {
	t.Helper()
	e, err := StartWhisk()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func whiskAuthURL(e *Whisk, kv ...string) string {
	q := url.Values{"scope": {"recipe:read cookbook:write"}, "client_id": {e.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:43210/callback"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return e.AuthURL + "?" + q.Encode()
}

func TestWhiskAuthorize(t *testing.T) {
	e := startWhisk(t)
	ctx := ctxT(t)
	if e.LastAuthorizeQuery() != nil {
		t.Fatal("no query yet")
	}
	cases := []struct {
		name      string
		url       string
		wantError string // "" = success
		fragment  bool
		check     func(t *testing.T, loc *url.URL)
	}{
		{name: "code with state", url: whiskAuthURL(e, "state", "st1"), check: func(t *testing.T, loc *url.URL) {
			if loc.Query().Get("code") == "" || loc.Query().Get("state") != "st1" || !strings.HasPrefix(loc.String(), "http://127.0.0.1:43210/callback?") {
				t.Fatalf("redirect %s", loc)
			}
		}},
		{name: "code without state", url: whiskAuthURL(e), check: func(t *testing.T, loc *url.URL) {
			if loc.Query().Has("state") {
				t.Fatalf("state invented: %s", loc)
			}
		}},
		{name: "comma scopes, registered redirect", url: whiskAuthURL(e, "scope", "recipe:read,offline_access", "redirect_uri", e.RedirectURI)},
		{name: "identity_provider skips the login form", url: whiskAuthURL(e, "identity_provider", "google", "state", "s"), check: func(t *testing.T, loc *url.URL) {
			if loc.Query().Get("code") == "" || e.LastAuthorizeQuery().Get("identity_provider") != "google" {
				t.Fatalf("redirect %s, query %v", loc, e.LastAuthorizeQuery())
			}
		}},
		{name: "implicit", url: whiskAuthURL(e, "response_type", "token", "scope", "", "state", "xyz"), fragment: true, check: func(t *testing.T, loc *url.URL) {
			if loc.RawQuery != "" || !regexp.MustCompile(`^access_token=whisk_at_[A-Za-z0-9_-]+&state=xyz&token_type=Bearer&expires_in=86400$`).MatchString(loc.Fragment) {
				t.Fatalf("fragment %q", loc.Fragment)
			}
			f, _ := url.ParseQuery(loc.Fragment)
			if !e.Valid(f.Get("access_token")) || f.Has("refresh_token") {
				t.Fatal("implicit token")
			}
		}},
		{name: "code without scope", url: whiskAuthURL(e, "scope", ""), wantError: "invalid_scope"},
		{name: "bad response_type", url: whiskAuthURL(e, "response_type", "id_token"), wantError: "unsupported_response_type"},
		{name: "deny", url: whiskAuthURL(e, "state", "d"), wantError: "access_denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var loc *url.URL
			var err error
			if c.wantError == "access_denied" {
				loc, err = e.AuthorizeDeny(ctx, c.url)
			} else {
				loc, err = e.AuthorizeRedirect(ctx, c.url)
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantError != "" {
				if loc.Query().Get("error") != c.wantError {
					t.Fatalf("want %s: %s", c.wantError, loc)
				}
				return
			}
			if c.check != nil {
				c.check(t, loc)
			}
		})
	}
	q := e.LastAuthorizeQuery()
	if q.Get("state") != "d" || q.Get("client_id") != e.ClientID {
		t.Fatalf("LastAuthorizeQuery %v", q)
	}
	for _, bad := range []string{whiskAuthURL(e, "redirect_uri", "https://evil.example/cb"), whiskAuthURL(e, "client_id", "x")} {
		if _, err := e.AuthorizeRedirect(ctx, bad); err == nil {
			t.Fatalf("%s accepted", bad)
		}
	}
}

func TestWhiskToken(t *testing.T) {
	e := startWhisk(t)
	ctx := ctxT(t)
	const redirect = "http://127.0.0.1:43210/callback"
	code := func(scope string) string {
		loc, err := e.AuthorizeRedirect(ctx, whiskAuthURL(e, "scope", scope))
		if err != nil {
			t.Fatal(err)
		}
		return loc.Query().Get("code")
	}
	exchange := func(c string, kv ...string) url.Values {
		v := url.Values{"client_id": {e.ClientID}, "client_secret": {e.ClientSecret}, "grant_type": {"authorization_code"}, "redirect_uri": {redirect}, "code": {c}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	shape := func(scopes []any, refresh bool) func(t *testing.T, r reply) {
		return func(t *testing.T, r reply) {
			t.Helper()
			if r.str("token_type") != "Bearer" || r.body["expires_in"] != 2592000.0 || !reflect.DeepEqual(r.body["scope"], scopes) || !e.Valid(r.str("access_token")) {
				t.Fatalf("bad answer %s", r.raw)
			}
			if _, has := r.body["refresh_token"]; has != refresh {
				t.Fatalf("refresh_token present=%v, want %v: %s", has, refresh, r.raw)
			}
		}
	}
	rt := e.IssueRefreshToken()
	refreshForm := url.Values{"client_id": {e.ClientID}, "client_secret": {e.ClientSecret}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
	runCases(t, []tokenCase{
		{name: "code multipart offline_access", req: req{url: e.TokenURL, multipart: exchange(code("recipe:read,offline_access"))}, status: 200, check: shape([]any{"recipe:read", "offline_access"}, true)},
		{name: "code multipart without offline_access", req: req{url: e.TokenURL, multipart: exchange(code("recipe:read cookbook:write"))}, status: 200, check: shape([]any{"recipe:read", "cookbook:write"}, false)},
		{name: "code urlencoded", req: req{url: e.TokenURL, form: exchange(code("recipe:read"))}, status: 400, errCode: "invalid_request"},
		{name: "code JSON", req: req{url: e.TokenURL, json: map[string]string{"grant_type": "authorization_code", "code": code("recipe:read"), "client_id": e.ClientID, "client_secret": e.ClientSecret, "redirect_uri": redirect}}, status: 400, errCode: "invalid_request"},
		{name: "code Basic", req: req{url: e.TokenURL, multipart: exchange(code("recipe:read"), "client_id", "", "client_secret", ""), basic: [2]string{e.ClientID, e.ClientSecret}}, status: 401, errCode: "invalid_client"},
		{name: "code wrong secret", req: req{url: e.TokenURL, multipart: exchange(code("recipe:read"), "client_secret", "no")}, status: 401, errCode: "invalid_client"},
		{name: "code other redirect_uri", req: req{url: e.TokenURL, multipart: exchange(code("recipe:read"), "redirect_uri", "http://127.0.0.1:1/other")}, status: 400, errCode: "invalid_grant"},
		{name: "code unknown", req: req{url: e.TokenURL, multipart: exchange("nope")}, status: 400, errCode: "invalid_grant"},
		{name: "refresh urlencoded", req: req{url: e.TokenURL, form: refreshForm}, status: 200, check: shape([]any{"recipe:read", "offline_access"}, false)},
		{name: "refresh multipart, not rotated", req: req{url: e.TokenURL, multipart: refreshForm}, status: 200, check: shape([]any{"recipe:read", "offline_access"}, false)},
		{name: "refresh Basic", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: [2]string{e.ClientID, e.ClientSecret}}, status: 401, errCode: "invalid_client"},
		{name: "refresh unknown", req: req{url: e.TokenURL, form: url.Values{"client_id": {e.ClientID}, "client_secret": {e.ClientSecret}, "grant_type": {"refresh_token"}, "refresh_token": {"nope"}}}, status: 400, errCode: "invalid_grant"},
	})

	// The API takes the token as a Bearer header or an access_token query parameter.
	r := do(t, req{url: e.TokenURL, form: refreshForm})
	at := r.str("access_token")
	if apiGet(t, e.URL+"/v2/me", at) != 200 || apiGet(t, e.URL+"/v2/me?access_token="+url.QueryEscape(at), "") != 200 || apiGet(t, e.URL+"/v2/me", "") != 401 {
		t.Fatal("protected API")
	}
	e.RevokeAllAccessTokens()
	if apiGet(t, e.URL+"/v2/me?access_token="+url.QueryEscape(at), "") != http.StatusUnauthorized {
		t.Fatal("revoked token accepted")
	}

	// SetAccessTTL applies to the implicit grant too.
	e.SetAccessTTL(time.Second)
	loc, err := e.AuthorizeRedirect(ctx, whiskAuthURL(e, "response_type", "token"))
	if err != nil || !strings.HasSuffix(loc.Fragment, "expires_in=1") {
		t.Fatalf("%v %v", loc, err)
	}
}
