package testprovider

import (
	"net/http"
	"net/url"
	"testing"
)

func TestShopware(t *testing.T) {
	e, err := StartShopware()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	cc := map[string]string{"grant_type": "client_credentials", "client_id": e.ClientID, "client_secret": e.ClientSecret}
	pw := map[string]string{"client_id": "administration", "grant_type": "password", "scopes": "write", "username": e.Username, "password": e.Password}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
	shape := func(t *testing.T, r reply, refresh bool) {
		t.Helper()
		if r.str("token_type") != "Bearer" || r.body["expires_in"] != 600.0 || !e.Valid(r.str("access_token")) {
			t.Fatalf("bad answer %s", r.raw)
		}
		if refresh {
			wantKeys(t, r, "refresh_token", "")
		} else {
			wantKeys(t, r, "", "refresh_token")
		}
	}
	rt := e.IssueRefreshToken()
	runCases(t, []tokenCase{
		{name: "client_credentials JSON", req: req{url: e.TokenURL, json: cc}, status: 200, check: func(t *testing.T, r reply) { shape(t, r, false) }},
		{name: "client_credentials form", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"client_credentials"}, "client_id": {e.ClientID}, "client_secret": {e.ClientSecret}}}, status: 400, errCode: "invalid_request"},
		{name: "client_credentials Basic", req: req{url: e.TokenURL, json: with(cc, "client_id", "", "client_secret", ""), basic: [2]string{e.ClientID, e.ClientSecret}}, status: 401, errCode: "invalid_client"},
		{name: "client_credentials wrong secret", req: req{url: e.TokenURL, json: with(cc, "client_secret", "no")}, status: 401, errCode: "invalid_client"},
		{name: "password scopes", req: req{url: e.TokenURL, json: pw}, status: 200, check: func(t *testing.T, r reply) { shape(t, r, true) }},
		{name: "password without scopes", req: req{url: e.TokenURL, json: with(pw, "scopes", "")}, status: 200, check: func(t *testing.T, r reply) { shape(t, r, true) }},
		{name: "password with scope key", req: req{url: e.TokenURL, json: with(pw, "scopes", "", "scope", "write")}, status: 400, errCode: "invalid_request"},
		{name: "password unknown scope", req: req{url: e.TokenURL, json: with(pw, "scopes", "write everything")}, status: 400, errCode: "invalid_scope"},
		{name: "password wrong client", req: req{url: e.TokenURL, json: with(pw, "client_id", e.ClientID)}, status: 401, errCode: "invalid_client"},
		{name: "password wrong password", req: req{url: e.TokenURL, json: with(pw, "password", "no")}, status: 400, errCode: "invalid_grant"},
		{name: "password form", req: req{url: e.TokenURL, form: url.Values{"client_id": {"administration"}, "grant_type": {"password"}, "scopes": {"write"}, "username": {e.Username}, "password": {e.Password}}}, status: 400, errCode: "invalid_request"},
		{name: "refresh wrong client", req: req{url: e.TokenURL, json: map[string]string{"grant_type": "refresh_token", "client_id": e.ClientID, "refresh_token": rt}}, status: 401, errCode: "invalid_client"},
		{name: "refresh form", req: req{url: e.TokenURL, form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"administration"}, "refresh_token": {rt}}}, status: 400, errCode: "invalid_request"},
		{name: "refresh unknown", req: req{url: e.TokenURL, json: map[string]string{"grant_type": "refresh_token", "client_id": "administration", "refresh_token": "nope"}}, status: 400, errCode: "invalid_grant"},
		{name: "non-string value", req: req{url: e.TokenURL, raw: `{"grant_type":"client_credentials","client_id":1}`, ctype: "application/json"}, status: 400, errCode: "invalid_request"},
		{name: "JSON with charset", req: req{url: e.TokenURL, raw: `{"grant_type":"client_credentials","client_id":"` + e.ClientID + `","client_secret":"` + e.ClientSecret + `"}`, ctype: "application/json; charset=utf-8"}, status: 200},
		{name: "JSON body without Content-Type", req: req{url: e.TokenURL, raw: `{"grant_type":"client_credentials","client_id":"` + e.ClientID + `","client_secret":"` + e.ClientSecret + `"}`}, status: 400, errCode: "invalid_request"},
	})
	if e.ReuseDetections() != 0 {
		t.Fatal("no reuse yet")
	}

	// Rotation: every use returns a new refresh token; an old one is invalid_grant and counted.
	refresh := func(tok string) reply {
		return do(t, req{url: e.TokenURL, json: map[string]string{"grant_type": "refresh_token", "client_id": "administration", "refresh_token": tok}})
	}
	r1 := refresh(rt)
	wantOK(t, r1)
	shape(t, r1, true)
	if r1.str("refresh_token") == rt {
		t.Fatal("not rotated")
	}
	wantErr(t, refresh(rt), http.StatusBadRequest, "invalid_grant")
	if e.ReuseDetections() != 1 {
		t.Fatalf("reuse = %d", e.ReuseDetections())
	}
	// Shopware does not revoke the chain: the current token still works.
	r2 := refresh(r1.str("refresh_token"))
	wantOK(t, r2)
	if !e.Valid(r1.str("access_token")) {
		t.Fatal("earlier access token should stay valid")
	}
	if s := stats(t, e.URL); s.ReuseDetections != 1 || s.TokenRequests != e.TokenRequests() {
		t.Fatalf("stats %+v", s)
	}
}
