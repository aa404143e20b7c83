package grant_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/grant"
)

// uiWatch is an Interaction.UI that lets a test wait for what lanyard
// prints, as the person reading the terminal would.
type uiWatch struct {
	mu      sync.Mutex
	all     strings.Builder
	partial string
	lines   chan string
}

func newUIWatch() *uiWatch { return &uiWatch{lines: make(chan string, 1000)} }

func (u *uiWatch) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.all.Write(p)
	u.partial += string(p)
	for {
		line, rest, ok := strings.Cut(u.partial, "\n")
		if !ok {
			break
		}
		u.partial = rest
		u.lines <- strings.TrimSpace(line)
	}
	return len(p), nil
}

// next returns the next printed line with the prefix.
func (u *uiWatch) next(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l := <-u.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			u.mu.Lock()
			defer u.mu.Unlock()
			t.Fatalf("lanyard never printed a line starting with %q; it printed:\n%s", prefix, u.all.String())
			return ""
		}
	}
}

// tokenServer captures token requests and answers with a fixed token.
type tokenServer struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []capturedReq
	reply func(n int, p url.Values) (int, string)
}

type capturedReq struct {
	path, ctype string
	basic       bool
	params      url.Values
}

func newTokenServer(t *testing.T, reply func(n int, p url.Values) (int, string)) *tokenServer {
	s := &tokenServer{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := capturedReq{path: r.URL.Path, params: url.Values{}}
		_, _, c.basic = r.BasicAuth()
		mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		c.ctype = mt
		if mt == "multipart/form-data" {
			mr := multipart.NewReader(r.Body, mp["boundary"])
			for {
				part, err := mr.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(part)
				c.params.Add(part.FormName(), string(b))
			}
		} else {
			_ = r.ParseForm()
			c.params = r.PostForm
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, c)
		n := len(s.reqs)
		s.mu.Unlock()
		status, body := s.reply(n, c.params)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *tokenServer) requests() []capturedReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]capturedReq(nil), s.reqs...)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestVerifier(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		v := grant.NewVerifier()
		if err := grant.CheckVerifier(v); err != nil || len(v) < 43 || len(v) > 128 {
			t.Fatalf("verifier %q (%d chars): %v", v, len(v), err)
		}
		if seen[v] {
			t.Fatalf("verifier %q repeated", v)
		}
		seen[v] = true
	}
	for _, bad := range []string{strings.Repeat("a", 42), strings.Repeat("a", 129), strings.Repeat("a", 42) + "+", strings.Repeat("a", 42) + "="} {
		if grant.CheckVerifier(bad) == nil {
			t.Errorf("CheckVerifier(%q) accepted it", bad)
		}
	}
	for _, good := range []string{strings.Repeat("a", 43), strings.Repeat("Z9-._~", 21) + "xy"} {
		if err := grant.CheckVerifier(good); err != nil {
			t.Errorf("CheckVerifier(%q): %v", good, err)
		}
	}
	// RFC 7636 appendix B.
	if got := grant.S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("S256Challenge = %q", got)
	}
}

// TestAuthCodeRequests checks the authorize URL and the code exchange on
// the wire: state, PKCE S256, scope separator, auth_params, redirect_uri
// repeated, and the client's dialect (Whisk: multipart, secret in the body).
func TestAuthCodeRequests(t *testing.T) {
	ts := newTokenServer(t, func(int, url.Values) (int, string) {
		return 200, `{"access_token":"at1","token_type":"Bearer","expires_in":60,"scope":["recipe:read","offline_access"],"refresh_token":"rt1"}`
	})
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL + "/token", ClientID: "cid", ClientSecret: "sec", ClientAuth: "post", Dialect: "multipart", ScopeSeparator: ","}
	ui := newUIWatch()
	type result struct {
		tok *grant.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{
			AuthURL: "https://login.example/oauth/v2/authorize?tenant=t1", RedirectURI: "http://127.0.0.1:0/whisk/cb",
			Scopes: []string{"recipe:read", "offline_access"}, ScopeSeparator: ",",
			AuthParams: map[string]string{"identity_provider": "google", "state": "fixed-by-user"},
		}, grant.Interaction{UI: ui, NoBrowser: true})
		done <- result{tok, err}
	}()
	au, err := url.Parse(ui.next(t, "https://login.example/"))
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	redirect := q.Get("redirect_uri")
	for k, want := range map[string]string{
		"tenant": "t1", "response_type": "code", "client_id": "cid", "scope": "recipe:read,offline_access",
		"identity_provider": "google", "code_challenge_method": "S256",
	} {
		if q.Get(k) != want {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("state")) < 32 || q.Get("state") == "fixed-by-user" {
		t.Errorf("state = %q: want lanyard's own random state", q.Get("state"))
	}
	if !strings.HasPrefix(redirect, "http://127.0.0.1:") || strings.HasPrefix(redirect, "http://127.0.0.1:0/") || !strings.HasSuffix(redirect, "/whisk/cb") {
		t.Fatalf("redirect_uri = %q: want the bound port", redirect)
	}
	resp, err := http.Get(redirect + "?code=the-code&state=" + url.QueryEscape(q.Get("state")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.tok.AccessToken != "at1" || r.tok.RefreshToken != "rt1" || len(r.tok.Scope) != 2 {
		t.Fatalf("token %+v", r.tok)
	}
	reqs := ts.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d token requests", len(reqs))
	}
	x := reqs[0]
	if x.ctype != "multipart/form-data" || x.basic {
		t.Errorf("exchange sent as %s basic=%v, want multipart with the secret in the body", x.ctype, x.basic)
	}
	for k, want := range map[string]string{
		"grant_type": "authorization_code", "code": "the-code", "redirect_uri": redirect,
		"client_id": "cid", "client_secret": "sec", "scope": "recipe:read,offline_access",
	} {
		if x.params.Get(k) != want {
			t.Errorf("exchange %s = %q, want %q", k, x.params.Get(k), want)
		}
	}
	v := x.params.Get("code_verifier")
	if err := grant.CheckVerifier(v); err != nil {
		t.Errorf("code_verifier: %v", err)
	}
	if grant.S256Challenge(v) != q.Get("code_challenge") {
		t.Errorf("code_challenge %q is not S256(%q)", q.Get("code_challenge"), v)
	}
}

func TestAuthCodeWithoutPKCE(t *testing.T) {
	ts := newTokenServer(t, func(int, url.Values) (int, string) {
		return 200, `{"access_token":"at1","token_type":"bearer","expires_in":60}`
	})
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL, ClientID: "cid", ClientAuth: "none"}
	ui := newUIWatch()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth", RedirectURI: "https://hookbin.com/bin/lanyard", PKCE: "none"},
			grant.Interaction{UI: ui, Paste: pr})
		done <- err
	}()
	au, _ := url.Parse(ui.next(t, "https://as.example/auth"))
	if au.Query().Has("code_challenge") || au.Query().Get("redirect_uri") != "https://hookbin.com/bin/lanyard" {
		t.Fatalf("authorize URL %s", au)
	}
	ui.next(t, "lanyard: copy that whole URL")
	io.WriteString(pw, "https://hookbin.com/bin/lanyard?code=c1&state="+au.Query().Get("state")+"\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := ts.requests()[0].params; p.Has("code_verifier") || p.Get("code") != "c1" || p.Get("redirect_uri") != "https://hookbin.com/bin/lanyard" {
		t.Fatalf("exchange %v", p)
	}
}

func TestAuthCodeRedirectErrors(t *testing.T) {
	ts := newTokenServer(t, func(int, url.Values) (int, string) { return 200, `{"access_token":"x"}` })
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL, ClientID: "cid", ClientAuth: "none"}
	cases := []struct {
		name  string
		paste func(state string) string
		want  string
		is    error
	}{
		{"denied", func(s string) string {
			return "https://cb.example/x?error=access_denied&error_description=the+user+said+no&state=" + s
		}, "access_denied: the user said no", nil},
		{"wrong state", func(string) string { return "https://cb.example/x?code=c&state=forged" }, "state does not match", grant.ErrStateMismatch},
		{"no state", func(string) string { return "https://cb.example/x?code=c" }, "carries no state", nil},
		{"garbage", func(string) string { return "what is this" }, "could not understand the pasted text", nil},
		{"nothing", func(string) string { return "" }, "input ended", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ui := newUIWatch()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth", RedirectURI: "https://cb.example/x"}, grant.Interaction{UI: ui, Paste: pr})
				done <- err
			}()
			au, _ := url.Parse(ui.next(t, "https://as.example/auth"))
			if s := tc.paste(au.Query().Get("state")); s != "" {
				io.WriteString(pw, s+"\n")
			}
			pw.Close()
			err := <-done
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if n := len(ts.requests()); n != 0 {
		t.Fatalf("%d token requests after failed redirects, want 0", n)
	}
}

func TestAuthCodeTimeout(t *testing.T) {
	c := &grant.Client{TokenURL: "http://127.0.0.1:1/token", ClientID: "cid"}
	_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth"}, grant.Interaction{UI: io.Discard, NoBrowser: true, Timeout: 20 * time.Millisecond})
	if !errors.Is(err, grant.ErrLoginTimeout) || !strings.Contains(err.Error(), "--timeout") {
		t.Fatalf("got %v", err)
	}
}

func TestAuthCodeNoPasteSource(t *testing.T) {
	c := &grant.Client{ClientID: "cid"}
	_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth", RedirectURI: "https://hookbin.com/bin/x"}, grant.Interaction{UI: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("got %v", err)
	}
}

// TestAuthCodeOpensBrowser: a working opener gets the URL; a failing one
// falls back to printing it and accepting a paste.
func TestAuthCodeOpensBrowser(t *testing.T) {
	ts := newTokenServer(t, func(int, url.Values) (int, string) { return 200, `{"access_token":"x","expires_in":60}` })
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL, ClientID: "cid", ClientAuth: "none"}
	opened := make(chan string, 1)
	open := func(u string) error { opened <- u; return nil }
	done := make(chan error, 1)
	ui := newUIWatch()
	go func() {
		_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth"}, grant.Interaction{UI: ui, Open: open, Paste: strings.NewReader("")})
		done <- err
	}()
	au, _ := url.Parse(<-opened)
	ui.next(t, "lanyard: opened a browser")
	resp, err := http.Get(au.Query().Get("redirect_uri") + "?code=c&state=" + au.Query().Get("state"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	ui = newUIWatch()
	pr, pw := io.Pipe()
	go func() {
		_, err := grant.AuthCode(ctxT(t), c, grant.AuthCodeRequest{AuthURL: "https://as.example/auth"}, grant.Interaction{UI: ui, Open: func(string) error { return errors.New("no xdg-open") }, Paste: pr})
		done <- err
	}()
	ui.next(t, "lanyard: could not open a browser (no xdg-open)")
	au, _ = url.Parse(ui.next(t, "https://as.example/auth"))
	io.WriteString(pw, "http://127.0.0.1/callback?code=c&state="+au.Query().Get("state")+"\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
