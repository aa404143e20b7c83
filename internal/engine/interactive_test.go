package engine

// Interactive logins against the real OpenID provider and the Whiplash and
// Whisk emulators of internal/testprovider. The test plays the person: it
// reads what lanyard prints on e.UI, drives the provider's login pages with
// the scripted user agent, and then either brings the redirect to the
// loopback listener (as the browser would) or pastes it on e.Stdin.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/store"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// ilUI is e.UI: it lets the test wait for what lanyard prints.
type ilUI struct {
	mu      sync.Mutex
	all     strings.Builder
	partial string
	lines   chan string
}

func (u *ilUI) Write(p []byte) (int, error) {
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
		select {
		case u.lines <- strings.TrimSpace(line):
		default:
		}
	}
	return len(p), nil
}

func (u *ilUI) String() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.all.String()
}

// next waits for the next printed line starting with prefix.
func (u *ilUI) next(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l := <-u.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("lanyard never printed a line starting with %q; it printed:\n%s", prefix, u.String())
			return ""
		}
	}
}

// ilEnv is one engine with an isolated file keyring, a watched UI and a
// stdin the test can paste into.
type ilEnv struct {
	e     *Engine
	ui    *ilUI
	paste *io.PipeWriter
}

func newILEnv(t *testing.T, env map[string]string) *ilEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(store.Options{Backend: "file", FileDir: filepath.Join(dir, "keyring"), Passphrase: func() (string, error) { return "pw", nil }})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ui := &ilUI{lines: make(chan string, 1000)}
	e := &Engine{
		Store: st, HTTP: &http.Client{Timeout: 20 * time.Second}, StateDir: filepath.Join(dir, "state"),
		Now: time.Now, Log: slog.New(slog.DiscardHandler), LockTimeout: 20 * time.Second,
		Getenv: func(k string) string { return env[k] }, // no DISPLAY, no BROWSER: headless
		UI:     ui, Stdin: pr,
	}
	return &ilEnv{e: e, ui: ui, paste: pw}
}

func ilProfile(t *testing.T, name, toml string) *config.Profile {
	t.Helper()
	f, err := config.Parse("test.toml", []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Profile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type ilResult struct {
	tok *Token
	err error
}

func (h *ilEnv) login(t *testing.T, p *config.Profile, opt LoginOptions) <-chan ilResult {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	done := make(chan ilResult, 1)
	go func() {
		defer cancel()
		tok, err := h.e.Login(ctx, p, opt)
		done <- ilResult{tok, err}
	}()
	return done
}

// approveDevice reads the verification URL and the user code a device
// login shows, approves the code at o as the person would on another
// device, and returns the login's successful result.
func (h *ilEnv) approveDevice(t *testing.T, o *testprovider.OP, done <-chan ilResult) ilResult {
	t.Helper()
	h.ui.next(t, o.Issuer) // verification_uri
	h.ui.next(t, "lanyard: and enter the code:")
	code := h.ui.next(t, "")
	for code == "" {
		code = h.ui.next(t, "")
	}
	if err := o.ApproveDevice(testCtx(t), code); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r
}

func (h *ilEnv) wantNothingStored(t *testing.T, p *config.Profile) {
	t.Helper()
	if tok, err := h.e.Store.Token(p.Name); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after a failed login the store holds %+v (err %v), want nothing", tok, err)
	}
}

func wantErrText(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("login succeeded, want an error containing %q", parts)
	}
	for _, s := range parts {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not say %q", err, s)
		}
	}
}

// browse GETs a redirect on the loopback listener, as the browser does.
func browse(t *testing.T, u *url.URL) (int, string) {
	t.Helper()
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func startOPForLogin(t *testing.T) *testprovider.OP {
	t.Helper()
	o, err := testprovider.StartOP(testprovider.OPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func opProfile(t *testing.T, o *testprovider.OP, grant string, extra string) *config.Profile {
	return ilProfile(t, "op", fmt.Sprintf(`[profiles.op]
issuer = %q
grant = %q
client_id = %q
scopes = ["openid", "offline_access"]
%s`, o.Issuer, grant, o.PublicClientID, extra))
}

// TestLoginAuthCodeOP: full authorization code + PKCE against the real OP,
// through the loopback listener, then the token is cached and refreshes.
func TestLoginAuthCodeOP(t *testing.T) {
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantAuthorizationCode, "")
	done := h.login(t, p, LoginOptions{}) // headless: prints the URL
	au, err := url.Parse(h.ui.next(t, o.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 32 || q.Get("scope") != "openid offline_access" {
		t.Fatalf("authorize URL %s", au)
	}
	h.ui.next(t, "lanyard: waiting for the browser to come back to http://127.0.0.1:")
	redirect, err := o.ScriptedLogin(testCtx(t), au.String())
	if err != nil {
		t.Fatal(err)
	}
	if redirect.Query().Get("code") == "" || !strings.HasPrefix(redirect.String(), q.Get("redirect_uri")) {
		t.Fatalf("OP redirected to %s", redirect)
	}
	if st, page := browse(t, redirect); st != 200 || !strings.Contains(page, "Logged in") {
		t.Fatalf("listener answered %d: %s", st, page)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !o.Valid(r.tok.AccessToken) || r.tok.RefreshToken == "" || r.tok.IDToken == "" {
		t.Fatalf("token %+v valid=%v", r.tok, o.Valid(r.tok.AccessToken))
	}
	// Cached: no token request; then a refresh without any prompt.
	n := o.TokenRequests()
	got, err := h.e.Token(testCtx(t), p, Options{})
	if err != nil || got.AccessToken != r.tok.AccessToken || o.TokenRequests() != n {
		t.Fatalf("cached Token: %v, %d requests", err, o.TokenRequests()-n)
	}
	got, err = h.e.Token(testCtx(t), p, Options{ForceRefresh: true})
	if err != nil || got.AccessToken == r.tok.AccessToken || !o.Valid(got.AccessToken) {
		t.Fatalf("refresh: %+v, %v", got, err)
	}
	if o.ReuseDetections() != 0 {
		t.Fatalf("%d reuse detections", o.ReuseDetections())
	}
}

// TestLoginAuthCodeOPStateMismatch: a redirect with another state is
// answered in the browser and ignored (a page that knows the port cannot
// end the login); the real redirect then completes it, its code used once.
func TestLoginAuthCodeOPStateMismatch(t *testing.T) {
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantAuthorizationCode, `redirect_uri = "http://localhost:0/cb"`)
	done := h.login(t, p, LoginOptions{NoBrowser: true})
	au := h.ui.next(t, o.AuthURL)
	redirect, err := o.ScriptedLogin(testCtx(t), au)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(redirect.String(), "http://localhost:") {
		t.Fatalf("redirect %s", redirect)
	}
	forged := *redirect
	q := forged.Query()
	q.Set("state", "forged-state")
	forged.RawQuery = q.Encode()
	if st, page := browse(t, &forged); st != http.StatusBadRequest || !strings.Contains(page, "still waiting") {
		t.Fatalf("listener answered %d: %s", st, page)
	}
	if n := o.TokenRequests(); n != 0 {
		t.Fatalf("%d token requests after the forged redirect, want 0: its code must not be used", n)
	}
	if st, page := browse(t, redirect); st != http.StatusOK {
		t.Fatalf("real redirect: listener answered %d: %s", st, page)
	}
	if r := <-done; r.err != nil {
		t.Fatalf("login after a forged redirect: %v", r.err)
	}
	if n := o.TokenRequests(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
}

func TestLoginAuthCodeOPDenied(t *testing.T) {
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantAuthorizationCode, "")
	done := h.login(t, p, LoginOptions{NoBrowser: true})
	redirect, err := o.ScriptedDeny(testCtx(t), h.ui.next(t, o.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	if st, page := browse(t, redirect); st != http.StatusBadRequest || !strings.Contains(page, "access_denied") {
		t.Fatalf("listener answered %d: %s", st, page)
	}
	wantErrText(t, (<-done).err, "refused the login: access_denied", "denied at the login page", "nothing was stored")
	h.wantNothingStored(t, p)
}

// TestLoginDeviceCodeOP: RFC 8628 against the OP with the scripted user
// approving on the verification page.
func TestLoginDeviceCodeOP(t *testing.T) {
	devicePollSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { devicePollSleep = nil })
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantDeviceCode, "")
	done := h.login(t, p, LoginOptions{})
	r := h.approveDevice(t, o, done)
	if !o.Valid(r.tok.AccessToken) || r.tok.RefreshToken == "" {
		t.Fatalf("token %+v", r.tok)
	}
	if st, err := h.e.Store.Token("op"); err != nil || st.AccessToken != r.tok.AccessToken {
		t.Fatalf("stored %+v, %v", st, err)
	}
}

func TestLoginDeviceCodeOPDenied(t *testing.T) {
	devicePollSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { devicePollSleep = nil })
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantDeviceCode, "")
	done := h.login(t, p, LoginOptions{})
	h.ui.next(t, "lanyard: and enter the code:")
	code := ""
	for code == "" {
		code = h.ui.next(t, "")
	}
	if err := o.DenyDevice(testCtx(t), code); err != nil {
		t.Fatal(err)
	}
	wantErrText(t, (<-done).err, "denied at the verification page", "nothing was stored", "lanyard login op")
	h.wantNothingStored(t, p)
}

// TestLoginDeviceCodeExpired: the server says expired_token while polling.
func TestLoginDeviceCodeExpired(t *testing.T) {
	devicePollSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { devicePollSleep = nil })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /device", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"https://as.example/device","expires_in":1,"interval":1}`)
	})
	var polls atomic.Int32
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		n := polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		if n < 2 {
			io.WriteString(w, `{"error":"authorization_pending"}`)
			return
		}
		io.WriteString(w, `{"error":"expired_token","error_description":"device code expired"}`)
	})
	srv := newHTTPServer(t, mux)
	h := newILEnv(t, nil)
	p := ilProfile(t, "dev", fmt.Sprintf("[profiles.dev]\ngrant = \"device_code\"\ntoken_url = %q\ndevice_auth_url = %q\nclient_id = \"c\"\n", srv+"/token", srv+"/device"))
	r := <-h.login(t, p, LoginOptions{})
	wantErrText(t, r.err, "the device code expired before the login was approved", "nothing was stored", "lanyard login dev")
	h.wantNothingStored(t, p)
}

func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func startWhiplash(t *testing.T) *testprovider.Whiplash {
	t.Helper()
	w, err := testprovider.StartWhiplash()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func whiplashProfile(t *testing.T, w *testprovider.Whiplash) *config.Profile {
	return ilProfile(t, "whiplash", fmt.Sprintf(`[profiles.whiplash]
grant = "authorization_code"
auth_url = %q
token_url = %q
client_id = %q
client_secret = "env:WHIPLASH_CLIENT_SECRET"
client_auth = "post"
scopes = ["user_manage"]
redirect_uri = %q
`, w.AuthURL, w.TokenURL, w.ClientID, w.CallbackURL))
}

var whiplashEnv = map[string]string{"WHIPLASH_CLIENT_SECRET": testprovider.WhiplashClientSecret}

// TestLoginWhiplashPaste: Whiplash's fixed https callback cannot reach
// lanyard: the person pastes the redirected URL (here, on stdin). The code
// exchange carries the secret, redirect_uri and scope in the body; refresh
// tokens rotate afterwards without any prompt.
func TestLoginWhiplashPaste(t *testing.T) {
	w := startWhiplash(t)
	h := newILEnv(t, whiplashEnv)
	p := whiplashProfile(t, w)
	done := h.login(t, p, LoginOptions{})
	au := h.ui.next(t, w.AuthURL)
	h.ui.next(t, "lanyard: copy that whole URL")
	redirect, err := w.AuthorizeRedirect(testCtx(t), au)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(redirect.String(), w.CallbackURL+"?code=") {
		t.Fatalf("Whiplash redirected to %s", redirect)
	}
	fmt.Fprintf(h.paste, "%s\n", redirect)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !w.Valid(r.tok.AccessToken) || r.tok.RefreshToken == "" || r.tok.TokenType != "Bearer" {
		t.Fatalf("token %+v", r.tok)
	}
	// lanyard token across refreshes: the rotated refresh token is saved.
	for range 3 {
		before, _ := h.e.Store.Token(p.Name)
		got, err := h.e.Token(testCtx(t), p, Options{ForceRefresh: true})
		if err != nil || !w.Valid(got.AccessToken) || got.RefreshToken == before.RefreshToken {
			t.Fatalf("refresh: %+v, %v", got, err)
		}
	}
	if w.ReuseDetections() != 0 {
		t.Fatalf("%d reuse detections", w.ReuseDetections())
	}
}

// TestLoginWhiplashPasteCodeOnly: pasting just the code works too.
func TestLoginWhiplashPasteCodeOnly(t *testing.T) {
	w := startWhiplash(t)
	h := newILEnv(t, whiplashEnv)
	p := whiplashProfile(t, w)
	done := h.login(t, p, LoginOptions{NoBrowser: true})
	redirect, err := w.AuthorizeRedirect(testCtx(t), h.ui.next(t, w.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(h.paste, "\n  %s  \n", redirect.Query().Get("code"))
	if r := <-done; r.err != nil || !w.Valid(r.tok.AccessToken) {
		t.Fatalf("login: %+v", r)
	}
}

// TestLoginWhiplashBadPaste: garbage, another login's URL (wrong state), a
// denial and an empty stdin: each a clear error, nothing stored.
func TestLoginWhiplashBadPaste(t *testing.T) {
	w := startWhiplash(t)
	cases := []struct {
		name  string
		paste func(t *testing.T, authURL string) string
		want  []string
	}{
		{"garbage", func(*testing.T, string) string { return "I have no idea what to paste here" }, []string{"could not understand the pasted text", "nothing was stored"}},
		{"url without code", func(*testing.T, string) string { return w.CallbackURL + "?utm_source=x" }, []string{"carries no code", "nothing was stored"}},
		{"wrong state", func(t *testing.T, au string) string {
			redirect, err := w.AuthorizeRedirect(testCtx(t), au)
			if err != nil {
				t.Fatal(err)
			}
			q := redirect.Query()
			q.Set("state", "state-of-an-older-login")
			redirect.RawQuery = q.Encode()
			return redirect.String()
		}, []string{"state does not match", "nothing was stored", "lanyard login whiplash"}},
		{"denied", func(t *testing.T, au string) string {
			redirect, err := w.AuthorizeDeny(testCtx(t), au)
			if err != nil {
				t.Fatal(err)
			}
			return redirect.String()
		}, []string{"access_denied: the resource owner denied the request", "nothing was stored"}},
		{"empty stdin", func(*testing.T, string) string { return "" }, []string{"input ended before a redirected URL or code was pasted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newILEnv(t, whiplashEnv)
			p := whiplashProfile(t, w)
			done := h.login(t, p, LoginOptions{NoBrowser: true})
			au := h.ui.next(t, w.AuthURL)
			if s := tc.paste(t, au); s != "" {
				fmt.Fprintf(h.paste, "%s\n", s)
			}
			h.paste.Close()
			wantErrText(t, (<-done).err, tc.want...)
			h.wantNothingStored(t, p)
		})
	}
}

func startWhisk(t *testing.T) *testprovider.Whisk {
	t.Helper()
	w, err := testprovider.StartWhisk()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

var whiskEnv = map[string]string{"WHISK_CLIENT_SECRET": testprovider.WhiskClientSecret}

func whiskProfile(t *testing.T, w *testprovider.Whisk, grant, extra string) *config.Profile {
	return ilProfile(t, "whisk", fmt.Sprintf(`[profiles.whisk]
grant = %q
auth_url = %q
token_url = %q
client_id = %q
client_secret = "env:WHISK_CLIENT_SECRET"
client_auth = "post"
scopes = ["recipe:read", "offline_access"]
scope_separator = ","
redirect_uri = "http://127.0.0.1:0/whisk/callback"
%s
[profiles.whisk.auth_params]
identity_provider = "google"
`, grant, w.AuthURL, w.TokenURL, w.ClientID, extra))
}

// TestLoginWhiskMultipart: Whisk's code exchange is multipart only; the
// authorize URL carries state, comma-separated scopes with offline_access,
// and identity_provider.
func TestLoginWhiskMultipart(t *testing.T) {
	w := startWhisk(t)
	h := newILEnv(t, whiskEnv)
	p := whiskProfile(t, w, config.GrantAuthorizationCode, `token_request = "multipart"`)
	done := h.login(t, p, LoginOptions{})
	redirect, err := w.AuthorizeRedirect(testCtx(t), h.ui.next(t, w.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	q := w.LastAuthorizeQuery()
	if q.Get("identity_provider") != "google" || q.Get("scope") != "recipe:read,offline_access" || len(q.Get("state")) < 32 || q.Get("response_type") != "code" {
		t.Fatalf("authorize query %v", q)
	}
	if st, page := browse(t, redirect); st != 200 || !strings.Contains(page, "Logged in") {
		t.Fatalf("listener answered %d: %s", st, page)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !w.Valid(r.tok.AccessToken) || r.tok.RefreshToken == "" || strings.Join(r.tok.Scope, " ") != "recipe:read offline_access" {
		t.Fatalf("token %+v", r.tok)
	}
	got, err := h.e.Token(testCtx(t), p, Options{ForceRefresh: true})
	if err != nil || got.AccessToken == r.tok.AccessToken || !w.Valid(got.AccessToken) || got.RefreshToken != r.tok.RefreshToken {
		t.Fatalf("refresh: %+v, %v", got, err)
	}
}

// TestLoginWhiskFormRejected: without token_request = "multipart" Whisk
// refuses the exchange; the error quotes it and nothing is stored.
func TestLoginWhiskFormRejected(t *testing.T) {
	w := startWhisk(t)
	h := newILEnv(t, whiskEnv)
	p := whiskProfile(t, w, config.GrantAuthorizationCode, "")
	done := h.login(t, p, LoginOptions{})
	redirect, err := w.AuthorizeRedirect(testCtx(t), h.ui.next(t, w.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	browse(t, redirect)
	wantErrText(t, (<-done).err, "invalid_request", "multipart/form-data")
	h.wantNothingStored(t, p)
}

// TestLoginWhiskImplicit: the token comes back in the URL fragment; the
// listener's page posts it back as its inline script does. No refresh
// token: once expired, a non-interactive caller is told to log in again.
func TestLoginWhiskImplicit(t *testing.T) {
	w := startWhisk(t)
	h := newILEnv(t, nil)
	p := ilProfile(t, "whisk", fmt.Sprintf(`[profiles.whisk]
grant = "implicit"
auth_url = %q
token_url = %q
client_id = %q
scopes = ["recipe:read"]
redirect_uri = "http://127.0.0.1:0/cb"
`, w.AuthURL, w.TokenURL, w.ClientID))
	done := h.login(t, p, LoginOptions{NoBrowser: true})
	au, _ := url.Parse(h.ui.next(t, w.AuthURL))
	if au.Query().Get("response_type") != "token" || au.Query().Has("code_challenge") {
		t.Fatalf("authorize URL %s", au)
	}
	redirect, err := w.AuthorizeRedirect(testCtx(t), au.String())
	if err != nil {
		t.Fatal(err)
	}
	frag := redirect.EscapedFragment()
	if !strings.Contains(frag, "access_token=") {
		t.Fatalf("Whisk redirected to %s", redirect)
	}
	// The browser loads the page (the fragment stays in the browser)...
	base := *redirect
	base.Fragment, base.RawFragment = "", ""
	st, page := browse(t, &base)
	if st != 200 || !strings.Contains(page, "location.hash") {
		t.Fatalf("page %d: %s", st, page)
	}
	// ...and its script posts the fragment back to the same origin.
	req, _ := http.NewRequest(http.MethodPost, base.String(), strings.NewReader(frag))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+base.Host)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Logged in") {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !w.Valid(r.tok.AccessToken) || r.tok.RefreshToken != "" || time.Until(r.tok.Expiry) < 23*time.Hour {
		t.Fatalf("token %+v", r.tok)
	}
	h.e.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	_, err = h.e.Token(testCtx(t), p, Options{Interactive: false})
	if !IsLoginRequired(err) || !strings.Contains(err.Error(), "implicit") || !strings.Contains(err.Error(), "run: lanyard login whisk") {
		t.Fatalf("expired implicit token: %v", err)
	}
}

// TestLoginWhiskImplicitPaste: paste mode accepts the URL with fragment.
func TestLoginWhiskImplicitPaste(t *testing.T) {
	w := startWhisk(t)
	h := newILEnv(t, nil)
	p := ilProfile(t, "whisk", fmt.Sprintf(`[profiles.whisk]
grant = "implicit"
auth_url = %q
token_url = %q
client_id = %q
redirect_uri = %q
`, w.AuthURL, w.TokenURL, w.ClientID, w.RedirectURI))
	done := h.login(t, p, LoginOptions{})
	redirect, err := w.AuthorizeRedirect(testCtx(t), h.ui.next(t, w.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(h.paste, "%s\n", redirect)
	if r := <-done; r.err != nil || !w.Valid(r.tok.AccessToken) {
		t.Fatalf("login: %+v", r)
	}
}

// TestLoginListenerPortInUse: a fixed redirect port that is taken fails
// at once, saying so.
func TestLoginListenerPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantAuthorizationCode, fmt.Sprintf("redirect_uri = \"http://127.0.0.1:%d/callback\"", port))
	r := <-h.login(t, p, LoginOptions{})
	wantErrText(t, r.err, `profile "op"`, fmt.Sprintf("port %d", port), "already in use", "nothing was stored")
	h.wantNothingStored(t, p)
}

func TestLoginTimeout(t *testing.T) {
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantAuthorizationCode, "")
	r := <-h.login(t, p, LoginOptions{NoBrowser: true, Timeout: 50 * time.Millisecond})
	wantErrText(t, r.err, "no login came back within 50ms", "--timeout", "nothing was stored")
	h.wantNothingStored(t, p)
}

// TestTokenNeverLogsInWhenNotInteractive: helpers that may not interact get
// the login command, and no listener or URL is ever shown.
func TestTokenNeverLogsInWhenNotInteractive(t *testing.T) {
	o := startOPForLogin(t)
	for _, g := range []string{config.GrantAuthorizationCode, config.GrantDeviceCode, config.GrantImplicit} {
		h := newILEnv(t, nil)
		p := opProfile(t, o, g, "")
		_, err := h.e.Token(testCtx(t), p, Options{Interactive: false})
		if !IsLoginRequired(err) || !strings.HasSuffix(err.Error(), "run: lanyard login op") {
			t.Fatalf("%s: %v", g, err)
		}
		if out := h.ui.String(); out != "" {
			t.Fatalf("%s: printed %q", g, out)
		}
	}
}

// TestPromptPasswordNoTTY: without a terminal the password grant says how
// to pipe the password.
func TestPromptPasswordNoTTY(t *testing.T) {
	old := openTTY
	openTTY = func() (*os.File, error) { return nil, errors.New("no tty") }
	t.Cleanup(func() { openTTY = old })
	h := newILEnv(t, nil)
	p := ilProfile(t, "shop", "[profiles.shop]\ngrant = \"password\"\ntoken_url = \"http://127.0.0.1:1/token\"\nclient_id = \"administration\"\nusername = \"admin\"\n")
	_, err := h.e.Login(testCtx(t), p, LoginOptions{})
	wantErrText(t, err, "no terminal", "lanyard login shop --password-stdin")
	h.wantNothingStored(t, p)
}

// TestLoginAuthCodeOPFormPost: response_mode = "form_post" against the
// real OP: the authorize URL asks for it, the OP's page posts code and
// state to the loopback listener, and the same checks apply: a post with
// a forged state is refused and ignored, the real one completes the login.
func TestLoginAuthCodeOPFormPost(t *testing.T) {
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantAuthorizationCode, `response_mode = "form_post"`)
	done := h.login(t, p, LoginOptions{NoBrowser: true})
	au, err := url.Parse(h.ui.next(t, o.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	if got := au.Query().Get("response_mode"); got != "form_post" {
		t.Fatalf("authorize URL %s: response_mode %q, want form_post", au, got)
	}
	action, form, err := o.ScriptedLoginFormPost(testCtx(t), au.String())
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("code") == "" || form.Get("state") != au.Query().Get("state") || action.String() != au.Query().Get("redirect_uri") {
		t.Fatalf("OP posts %v to %s", form, action)
	}
	post := func(f url.Values) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", o.Issuer) // the provider's page posts cross-origin
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	forged := url.Values{"code": {form.Get("code")}, "state": {"forged"}}
	if st, page := post(forged); st != http.StatusBadRequest || !strings.Contains(page, "still waiting") {
		t.Fatalf("forged post: listener answered %d: %s", st, page)
	}
	if n := o.TokenRequests(); n != 0 {
		t.Fatalf("%d token requests after a forged post, want 0", n)
	}
	if st, page := post(form); st != http.StatusOK || !strings.Contains(page, "Logged in") {
		t.Fatalf("listener answered %d: %s", st, page)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !o.Valid(r.tok.AccessToken) {
		t.Fatal("the OP does not know the token")
	}
}

// TestFormPostNeedsLoopback: form_post with a paste-mode redirect_uri
// fails before any browser, naming the key.
func TestFormPostNeedsLoopback(t *testing.T) {
	o := startOPForLogin(t)
	h := newILEnv(t, nil)
	p := opProfile(t, o, config.GrantAuthorizationCode, "response_mode = \"form_post\"\nredirect_uri = \"https://app.example/cb\"")
	wantErrText(t, (<-h.login(t, p, LoginOptions{NoBrowser: true})).err, "form_post", "loopback redirect_uri")
}
