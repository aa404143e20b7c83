package testprovider

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func startWhiplash(t *testing.T) *Whiplash {
	t.Helper()
	e, err := StartWhiplash()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func whiplashAuthURL(e *Whiplash, kv ...string) string {
	q := url.Values{"scope": {"user_manage"}, "response_type": {"code"}, "redirect_uri": {e.CallbackURL}, "client_id": {e.ClientID}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return e.AuthURL + "?" + q.Encode()
}

func TestWhiplashAuthorize(t *testing.T) {
	e := startWhiplash(t)
	ctx := ctxT(t)
	loc, err := e.AuthorizeRedirect(ctx, whiplashAuthURL(e, "state", "xyz"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), e.CallbackURL+"?") || loc.Query().Get("code") == "" || loc.Query().Get("state") != "xyz" {
		t.Fatalf("redirect %s", loc)
	}
	if loc, err = e.AuthorizeRedirect(ctx, whiplashAuthURL(e)); err != nil || loc.Query().Has("state") {
		t.Fatalf("without state: %v %v", loc, err)
	}
	if loc, err = e.AuthorizeDeny(ctx, whiplashAuthURL(e, "state", "s")); err != nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s" {
		t.Fatalf("deny: %v %v", loc, err)
	}
	if loc, err = e.AuthorizeRedirect(ctx, whiplashAuthURL(e, "scope", "admin")); err != nil || loc.Query().Get("error") != "invalid_scope" {
		t.Fatalf("bad scope: %v %v", loc, err)
	}
	for _, bad := range [][]string{{"redirect_uri", "http://127.0.0.1:8080/callback"}, {"client_id", "other"}} {
		if _, err := e.AuthorizeRedirect(ctx, whiplashAuthURL(e, bad...)); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

func TestWhiplashToken(t *testing.T) {
	e := startWhiplash(t)
	ctx := ctxT(t)
	code := func(scope string) string {
		loc, err := e.AuthorizeRedirect(ctx, whiplashAuthURL(e, "scope", scope))
		if err != nil {
			t.Fatal(err)
		}
		return loc.Query().Get("code")
	}
	exchange := func(c string, kv ...string) url.Values {
		v := url.Values{"redirect_uri": {e.CallbackURL}, "code": {c}, "client_id": {e.ClientID}, "client_secret": {e.ClientSecret}, "scope": {"user_manage"}, "grant_type": {"authorization_code"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	shape := func(t *testing.T, r reply) {
		t.Helper()
		wantKeys(t, r, "access_token token_type expires_in scope created_at refresh_token", "")
		created, _ := r.body["created_at"].(float64)
		if r.str("token_type") != "bearer" || r.body["expires_in"] != 7200.0 || r.str("scope") != "user_manage" ||
			time.Since(time.Unix(int64(created), 0)) > time.Minute || !e.Valid(r.str("access_token")) {
			t.Fatalf("bad answer %s", r.raw)
		}
		if !strings.Contains(r.raw, `"created_at":`+itoa(int64(created))) {
			t.Fatalf("created_at must be an integer: %s", r.raw)
		}
	}
	reused := code("user_manage")
	rt := e.IssueRefreshToken()
	runCases(t, []tokenCase{
		{name: "code exchange", req: req{url: e.TokenURL, form: exchange(reused)}, status: 200, check: shape},
		{name: "code reused", req: req{url: e.TokenURL, form: exchange(reused)}, status: 400, errCode: "invalid_grant"},
		{name: "code exchange Basic", req: req{url: e.TokenURL, form: exchange(code("user_manage"), "client_id", "", "client_secret", ""), basic: [2]string{e.ClientID, e.ClientSecret}}, status: 401, errCode: "invalid_client"},
		{name: "code exchange Basic and body", req: req{url: e.TokenURL, form: exchange(code("user_manage")), basic: [2]string{e.ClientID, e.ClientSecret}}, status: 401, errCode: "invalid_client"},
		{name: "code exchange no secret", req: req{url: e.TokenURL, form: exchange(code("user_manage"), "client_secret", "")}, status: 401, errCode: "invalid_client"},
		{name: "code exchange JSON", req: req{url: e.TokenURL, json: map[string]string{"grant_type": "authorization_code", "code": code("user_manage"), "client_id": e.ClientID, "client_secret": e.ClientSecret, "redirect_uri": e.CallbackURL, "scope": "user_manage"}}, status: 400, errCode: "invalid_request"},
		{name: "code exchange multipart", req: req{url: e.TokenURL, multipart: exchange(code("user_manage"))}, status: 400, errCode: "invalid_request"},
		{name: "code exchange without scope", req: req{url: e.TokenURL, form: exchange(code("user_manage"), "scope", "")}, status: 400, errCode: "invalid_request"},
		{name: "code exchange wider scope", req: req{url: e.TokenURL, form: exchange(code("user_read"), "scope", "user_manage")}, status: 400, errCode: "invalid_scope"},
		{name: "code exchange wrong redirect_uri", req: req{url: e.TokenURL, form: exchange(code("user_manage"), "redirect_uri", "http://127.0.0.1:1/cb")}, status: 400, errCode: "invalid_grant"},
		{name: "code exchange without redirect_uri", req: req{url: e.TokenURL, form: exchange(code("user_manage"), "redirect_uri", "")}, status: 400, errCode: "invalid_grant"},
		{name: "refresh", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.ClientID}, "client_secret": {e.ClientSecret}}}, status: 200, check: func(t *testing.T, r reply) {
			shape(t, r)
			if r.str("refresh_token") == rt {
				t.Fatal("refresh token not rotated")
			}
		}},
		{name: "refresh Basic", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {e.IssueRefreshToken()}}, basic: [2]string{e.ClientID, e.ClientSecret}}, status: 401, errCode: "invalid_client"},
		{name: "client_credentials unsupported", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"client_credentials"}, "client_id": {e.ClientID}, "client_secret": {e.ClientSecret}}}, status: 400, errCode: "unsupported_grant_type"},
	})
	if h := do(t, req{url: e.TokenURL, form: url.Values{"grant_type": {"refresh_token"}}}).header; h.Get("X-Ratelimit-Limit") == "" {
		t.Fatal("rate-limit headers missing")
	}
	if e.ReuseDetections() != 0 {
		t.Fatal("no reuse yet")
	}
}

func whiplashRefresh(t *testing.T, e *Whiplash, rt string) reply {
	return do(t, req{url: e.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.ClientID}, "client_secret": {e.ClientSecret}}})
}

func TestWhiplashReuseRevokesFamily(t *testing.T) {
	e := startWhiplash(t)
	other := whiplashRefresh(t, e, e.IssueRefreshToken()) // an unrelated grant
	rt0 := e.IssueRefreshToken()
	r1 := whiplashRefresh(t, e, rt0)
	wantOK(t, r1)
	r2 := whiplashRefresh(t, e, r1.str("refresh_token"))
	wantOK(t, r2)
	if apiGet(t, e.URL+"/api/v2/items", r2.str("access_token")) != 200 {
		t.Fatal("API rejects a fresh token")
	}

	wantErr(t, whiplashRefresh(t, e, rt0), http.StatusBadRequest, "invalid_grant")
	if e.ReuseDetections() != 1 {
		t.Fatalf("reuse = %d", e.ReuseDetections())
	}
	// The whole chain is revoked: current refresh token and all access tokens.
	wantErr(t, whiplashRefresh(t, e, r2.str("refresh_token")), http.StatusBadRequest, "invalid_grant")
	for _, at := range []string{r1.str("access_token"), r2.str("access_token")} {
		if e.Valid(at) {
			t.Fatal("access token of a revoked grant is valid")
		}
	}
	if apiGet(t, e.URL+"/api/v2/items", r2.str("access_token")) != 401 {
		t.Fatal("API accepts a revoked token")
	}
	// Other grants are untouched.
	if !e.Valid(other.str("access_token")) {
		t.Fatal("unrelated grant revoked")
	}
	wantOK(t, whiplashRefresh(t, e, other.str("refresh_token")))
}

func TestWhiplashConcurrentRefreshes(t *testing.T) {
	e := startWhiplash(t)
	const n = 200

	// 200 independent grants refreshed at once: all succeed.
	rts := make([]string, n)
	for i := range rts {
		rts[i] = e.IssueRefreshToken()
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = whiplashRefresh(t, e, rts[i]).status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("refresh %d: status %d", i, s)
		}
	}
	if e.ReuseDetections() != 0 || e.TokenRequests() != n {
		t.Fatalf("reuse %d, requests %d", e.ReuseDetections(), e.TokenRequests())
	}

	// 200 clients racing with the same refresh token: one wins, 199 are reuse.
	shared := e.IssueRefreshToken()
	replies := make([]reply, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = whiplashRefresh(t, e, shared)
		}()
	}
	wg.Wait()
	won := 0
	var winner reply
	for _, r := range replies {
		switch {
		case r.status == 200:
			won++
			winner = r
		case r.str("error") != "invalid_grant":
			t.Fatalf("unexpected %d %s", r.status, r.raw)
		}
	}
	if won != 1 || e.ReuseDetections() != n-1 {
		t.Fatalf("winners %d, reuse %d", won, e.ReuseDetections())
	}
	if e.Valid(winner.str("access_token")) {
		t.Fatal("reuse must revoke the winner's grant too")
	}
}
