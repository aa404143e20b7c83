package grant_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/grant"
)

// TestListenerIgnoresForeignRedirects: a web page that knows the fixed
// port sends the listener OAuth parameters (an error, a code) without the
// login's state; the listener ignores them and the real redirect still
// completes the login.
func TestListenerIgnoresForeignRedirects(t *testing.T) {
	ts := newTokenServer(t, func(int, url.Values) (int, string) { return 200, `{"access_token":"at1","expires_in":60}` })
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL, ClientID: "cid", ClientAuth: "none"}
	ui := newUIWatch()
	done := make(chan error, 1)
	go func() {
		_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth", RedirectURI: "http://127.0.0.1:0/cb"}, grant.Interaction{UI: ui, NoBrowser: true})
		done <- err
	}()
	au, _ := url.Parse(ui.next(t, "https://as.example/auth"))
	redirect, state := au.Query().Get("redirect_uri"), au.Query().Get("state")
	for _, forged := range []string{
		"?error=access_denied&error_description=gotcha",
		"?error=access_denied&state=forged",
		"?code=attacker-code",
		"?code=attacker-code&state=forged",
	} {
		resp, err := http.Get(redirect + forged)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "still waiting") {
			t.Errorf("%s: got %d %q, want 400 and still waiting", forged, resp.StatusCode, body)
		}
		select {
		case err := <-done:
			t.Fatalf("%s ended the login: %v", forged, err)
		default:
		}
	}
	resp, err := http.Get(redirect + "?code=the-code&state=" + url.QueryEscape(state))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatalf("the real redirect after forged ones: %v", err)
	}
	if reqs := ts.requests(); len(reqs) != 1 || reqs[0].params.Get("code") != "the-code" {
		t.Errorf("token requests %v, want one with the real code", reqs)
	}
}

// TestListenerForeignRedirectsTimeOut: only forged redirects arrive, so the
// login ends by its timeout, never by what the page sent.
func TestListenerForeignRedirectsTimeOut(t *testing.T) {
	c := &grant.Client{ClientID: "cid", ClientAuth: "none"}
	ui := newUIWatch()
	done := make(chan error, 1)
	go func() {
		_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth", RedirectURI: "http://127.0.0.1:0/cb"}, grant.Interaction{UI: ui, NoBrowser: true, Timeout: time.Second})
		done <- err
	}()
	au, _ := url.Parse(ui.next(t, "https://as.example/auth"))
	resp, err := http.Get(au.Query().Get("redirect_uri") + "?error=access_denied&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-done; !errors.Is(err, grant.ErrLoginTimeout) {
		t.Fatalf("got %v, want the login timeout", err)
	}
}

// TestRedirectChecks: RFC 9207 iss, bare codes, and server text with
// control characters, through pasted redirects.
func TestRedirectChecks(t *testing.T) {
	ts := newTokenServer(t, func(int, url.Values) (int, string) { return 200, `{"access_token":"x"}` })
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL, ClientID: "cid", ClientAuth: "none"}
	const issuer = "https://as.example"
	cases := []struct {
		name   string
		req    grant.AuthCodeRequest
		paste  func(state string) string
		want   string // "" means success
		is     error
		uiSays string
	}{
		{"iss matches", grant.AuthCodeRequest{Issuer: issuer, RequireIss: true}, func(s string) string {
			return "https://cb.example/x?code=c&iss=" + url.QueryEscape(issuer) + "&state=" + s
		}, "", nil, ""},
		{"iss of another server", grant.AuthCodeRequest{Issuer: issuer}, func(s string) string { return "https://cb.example/x?code=c&iss=https%3A%2F%2Fevil.example&state=" + s }, "evil.example", grant.ErrIssuerMismatch, ""},
		{"iss required but missing", grant.AuthCodeRequest{Issuer: issuer, RequireIss: true}, func(s string) string { return "https://cb.example/x?code=c&state=" + s }, "carries no iss", grant.ErrIssuerMismatch, ""},
		{"no iss, not advertised", grant.AuthCodeRequest{Issuer: issuer}, func(s string) string { return "https://cb.example/x?code=c&state=" + s }, "", nil, ""},
		{"bare code in paste mode", grant.AuthCodeRequest{}, func(string) string { return "the-bare-code" }, "", nil, "could not check"},
		{"escape sequences in error_description", grant.AuthCodeRequest{}, func(s string) string {
			return "https://cb.example/x?error=access_denied&error_description=" + url.QueryEscape("no\x1b]0;owned\x07 way\x9b31m") + "&state=" + s
		}, "access_denied: no]0;owned way31m", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ui := newUIWatch()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			req := tc.req
			req.AuthURL, req.RedirectURI = "https://as.example/auth", "https://cb.example/x"
			go func() {
				_, err := grant.AuthCode(ctxT(t), c, req, grant.Interaction{UI: ui, Paste: pr})
				done <- err
			}()
			au, _ := url.Parse(ui.next(t, "https://as.example/auth"))
			io.WriteString(pw, tc.paste(au.Query().Get("state"))+"\n")
			pw.Close()
			err := <-done
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\x1b\x07\u009b") {
				t.Errorf("error %q carries control characters", err)
			}
			if tc.uiSays != "" {
				ui.mu.Lock()
				said := ui.all.String()
				ui.mu.Unlock()
				if !strings.Contains(said, tc.uiSays) {
					t.Errorf("UI said %q, want %q", said, tc.uiSays)
				}
			}
		})
	}
}

// TestBareCodeNeedsPasteMode: with a loopback listener, the browser's
// address bar holds the whole URL, state included; a bare code, which
// cannot be checked, is refused.
func TestBareCodeNeedsPasteMode(t *testing.T) {
	c := &grant.Client{ClientID: "cid", ClientAuth: "none"}
	_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth", RedirectURI: "http://127.0.0.1:0/cb"},
		grant.Interaction{UI: io.Discard, NoBrowser: true, Paste: strings.NewReader("the-bare-code\n")})
	if err == nil || !strings.Contains(err.Error(), "paste the whole URL") {
		t.Fatalf("got %v, want the bare code refused", err)
	}
}

// TestDeviceFlowStripsControlCharacters: verification_uri and user_code
// come from the server and reach the terminal: no escape sequences.
func TestDeviceFlowStripsControlCharacters(t *testing.T) {
	ts := newTokenServer(t, func(n int, p url.Values) (int, string) {
		if n == 1 {
			return 200, `{"device_code":"dc","user_code":"AB\u001b]0;owned\u0007CD","verification_uri":"https://as.example/dev\u001b[2Jice","expires_in":600,"interval":1}`
		}
		return 400, `{"error":"access_denied","error_description":"no\u001b[31m"}`
	})
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL, ClientID: "cid", ClientAuth: "none"}
	ui := newUIWatch()
	var s sleeps
	_, err := grant.DeviceCode(ctxT(t), c, grant.DeviceRequest{DeviceAuthURL: ts.URL + "/device", Sleep: s.sleep}, grant.Interaction{UI: ui})
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) {
		t.Fatalf("got %q, want a denial without control characters", err)
	}
	ui.mu.Lock()
	said := ui.all.String()
	ui.mu.Unlock()
	if strings.ContainsAny(said, "\x1b\x07") || !strings.Contains(said, "https://as.example/dev[2Jice") || !strings.Contains(said, "AB]0;ownedCD") {
		t.Errorf("UI got %q", said)
	}
}
