package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParsePasted(t *testing.T) {
	cases := []struct {
		name, in string
		want     url.Values
		bare     bool
		err      string
	}{
		{name: "query", in: "https://hookbin.com/bin/x?code=abc123&state=s1\n", want: url.Values{"code": {"abc123"}, "state": {"s1"}}},
		{name: "fragment", in: "http://127.0.0.1:5000/cb#access_token=at&state=s&token_type=Bearer&expires_in=86400", want: url.Values{"access_token": {"at"}, "state": {"s"}, "token_type": {"Bearer"}, "expires_in": {"86400"}}},
		{name: "fragment wins", in: "http://x/cb?state=q#state=f&access_token=a", want: url.Values{"access_token": {"a"}, "state": {"f"}}},
		{name: "error", in: "https://hookbin.com/bin/x?error=access_denied&error_description=no+way&state=s", want: url.Values{"error": {"access_denied"}, "error_description": {"no way"}, "state": {"s"}}},
		{name: "quoted", in: ` "https://h/cb?code=c&state=s" `, want: url.Values{"code": {"c"}, "state": {"s"}}},
		{name: "params only", in: "code=c1&state=s1", want: url.Values{"code": {"c1"}, "state": {"s1"}}},
		{name: "bare code", in: "  4/0AbCdEf-gh_ij.kl~mn  ", want: url.Values{"code": {"4/0AbCdEf-gh_ij.kl~mn"}}, bare: true},
		{name: "bare code with padding", in: "YWJjZA==", want: url.Values{"code": {"YWJjZA=="}}, bare: true},
		{name: "empty", in: "   ", err: "nothing was pasted"},
		{name: "garbage", in: "hello world", err: "could not understand the pasted text"},
		{name: "too short", in: "ab", err: "could not understand"},
		{name: "url without code", in: "https://hookbin.com/bin/x?foo=bar", err: "carries no code, token or error"},
		{name: "bad url", in: "http://[::1/cb?code=x", err: "not a URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := ParsePasted(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rd.Params.Encode() != tc.want.Encode() || rd.BareCode != tc.bare || !rd.Pasted {
				t.Fatalf("got %v bare=%v, want %v bare=%v", rd.Params, rd.BareCode, tc.want, tc.bare)
			}
		})
	}
}

func FuzzParsePasted(f *testing.F) {
	for _, s := range []string{"https://h/cb?code=c&state=s", "http://x/#access_token=a", "abcd", "code=x", "%zz?#", "http://[::1]:0/?error=e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rd, err := ParsePasted(s)
		if err != nil {
			return
		}
		if !hasOAuthParams(rd.Params) {
			t.Fatalf("accepted %q without OAuth parameters: %v", s, rd.Params)
		}
	})
}

func TestOpenerHeadlessIsNil(t *testing.T) {
	if Opener(func(k string) string { return map[string]string{"SSH_TTY": "/dev/pts/0"}[k] }) != nil {
		t.Fatal("an SSH session must print the URL, not start a browser")
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func listen(t *testing.T, uri string, opt ListenOptions) *Listener {
	t.Helper()
	l, err := Listen(uri, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestListenerReceivesCode(t *testing.T) {
	check := func(rd *Redirect) error {
		if rd.Params.Get("state") != "s1" {
			return errors.New("bad state")
		}
		return nil
	}
	l := listen(t, "http://127.0.0.1/callback", ListenOptions{Check: check})
	u, _ := url.Parse(l.RedirectURI())
	if u.Port() == "" || u.Port() == "0" || u.Path != "/callback" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("RedirectURI = %s", l.RedirectURI())
	}
	// Stray requests are not results.
	if st, _ := get(t, l.RedirectURI()); st != http.StatusBadRequest {
		t.Fatalf("no params: status %d", st)
	}
	if st, _ := get(t, "http://"+u.Host+"/favicon.ico"); st != http.StatusNotFound {
		t.Fatalf("favicon: status %d", st)
	}
	req, _ := http.NewRequest(http.MethodGet, l.RedirectURI()+"?code=c&state=s1", nil)
	req.Host = "evil.example:" + u.Port()
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("foreign Host: %v %v", resp, err)
	}

	st, body := get(t, l.RedirectURI()+"?code=c&state=s1")
	if st != 200 || !strings.Contains(body, "Logged in") {
		t.Fatalf("status %d: %s", st, body)
	}
	rd, err := Receive(ctxT(t), l, nil, check)
	if err != nil || rd.Params.Get("code") != "c" || rd.Pasted {
		t.Fatalf("Receive = %+v, %v", rd, err)
	}
	if st, body := get(t, l.RedirectURI()+"?code=c2&state=s1"); st != http.StatusConflict || !strings.Contains(body, "already") {
		t.Fatalf("second redirect: %d %s", st, body)
	}
	l.Close()
	if _, err := http.Get(l.RedirectURI()); err == nil {
		t.Fatal("listener still serving after Close")
	}
}

func TestListenerCheckFails(t *testing.T) {
	check := func(rd *Redirect) error { return errors.New("state mismatch <b>") }
	l := listen(t, "http://127.0.0.1:0/", ListenOptions{Check: check})
	st, body := get(t, l.RedirectURI()+"?code=c&state=x")
	if st != http.StatusBadRequest || !strings.Contains(body, "state mismatch &lt;b&gt;") {
		t.Fatalf("status %d: %s", st, body)
	}
	if _, err := Receive(ctxT(t), l, nil, check); err == nil || !strings.Contains(err.Error(), "state mismatch") {
		t.Fatalf("Receive error = %v", err)
	}
}

func TestListenerFragment(t *testing.T) {
	l := listen(t, "http://localhost:0/cb", ListenOptions{Fragment: true})
	u, _ := url.Parse(l.RedirectURI())
	if u.Hostname() != "localhost" {
		t.Fatalf("RedirectURI = %s", l.RedirectURI())
	}
	st, page := get(t, l.RedirectURI())
	if st != 200 || !strings.Contains(page, "location.hash") || !strings.Contains(page, `method: "POST"`) {
		t.Fatalf("fragment page: %d %s", st, page)
	}
	post := func(origin, ctype, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, l.RedirectURI(), strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const form = "application/x-www-form-urlencoded"
	if st, _ := post("http://evil.example", form, "access_token=a&state=s"); st != http.StatusForbidden {
		t.Fatalf("cross-origin post: %d", st)
	}
	if st, _ := post("", "text/plain", "access_token=a&state=s"); st != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain post: %d", st)
	}
	if st, _ := post("", form, ""); st != http.StatusBadRequest {
		t.Fatalf("empty fragment: %d", st)
	}
	st, body := post("http://"+u.Host, form, "access_token=a&state=s&token_type=Bearer")
	if st != 200 || !strings.Contains(body, "Logged in") {
		t.Fatalf("post: %d %s", st, body)
	}
	rd, err := Receive(ctxT(t), l, nil, nil)
	if err != nil || rd.Params.Get("access_token") != "a" {
		t.Fatalf("Receive = %+v, %v", rd, err)
	}
}

func TestListenPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	_, err = Listen("http://127.0.0.1:"+strconv.Itoa(port)+"/callback", ListenOptions{})
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("got %v", err)
	}
}

func TestListenRejectsNonLoopback(t *testing.T) {
	for _, u := range []string{"https://hookbin.com/bin/x", "http://192.0.2.1:80/cb", "http://127.0.0.1:0/cb#frag"} {
		if _, err := Listen(u, ListenOptions{}); err == nil {
			t.Errorf("Listen(%q) succeeded", u)
		}
	}
	for u, want := range map[string]bool{"http://127.0.0.1/cb": true, "http://[::1]:8080/": true, "http://localhost:0": true, "https://127.0.0.1/cb": false, "https://hookbin.com/bin/x": false, "http://127.0.0.1.nip.io/": false} {
		if got := IsLoopback(u); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestReceiveRace(t *testing.T) {
	ctx := ctxT(t)
	t.Run("paste wins", func(t *testing.T) {
		l := listen(t, "http://127.0.0.1:0/cb", ListenOptions{})
		rd, err := Receive(ctx, l, strings.NewReader("\n\nhttps://x/cb?code=p&state=s\n"), nil)
		if err != nil || rd.Params.Get("code") != "p" || !rd.Pasted {
			t.Fatalf("got %+v, %v", rd, err)
		}
	})
	t.Run("empty stdin leaves the listener waiting", func(t *testing.T) {
		l := listen(t, "http://127.0.0.1:0/cb", ListenOptions{})
		pr, pw := io.Pipe()
		done := make(chan struct{})
		var rd *Redirect
		var err error
		go func() { rd, err = Receive(ctx, l, pr, nil); close(done) }()
		pw.Close() // EOF without a paste
		if st, _ := get(t, l.RedirectURI()+"?code=l&state=s"); st != 200 {
			t.Fatalf("status %d", st)
		}
		<-done
		if err != nil || rd.Params.Get("code") != "l" {
			t.Fatalf("got %+v, %v", rd, err)
		}
	})
	t.Run("paste only, empty", func(t *testing.T) {
		if _, err := Receive(ctx, nil, strings.NewReader(""), nil); !errors.Is(err, ErrNoPaste) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("paste checked", func(t *testing.T) {
		_, err := Receive(ctx, nil, strings.NewReader("https://x/cb?code=p&state=wrong\n"), func(rd *Redirect) error { return errors.New("state mismatch") })
		if err == nil || err.Error() != "state mismatch" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := Receive(ctx, nil, strings.NewReader("no idea what to paste\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "could not understand") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		l := listen(t, "http://127.0.0.1:0/cb", ListenOptions{})
		dctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := Receive(dctx, l, nil, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestPasteInputNonTerminal(t *testing.T) {
	r, tty, closeFn := PasteInput(strings.NewReader("x"))
	defer closeFn()
	if r == nil || tty {
		t.Fatalf("got %v %v", r, tty)
	}
	if r, _, _ := PasteInput(nil); r != nil {
		t.Fatal("nil stdin must give no paste input")
	}
}

// TestListenLocalhostIPv6Taken: another local user holding [::1]:PORT
// would receive the redirect of a browser that resolves localhost to ::1,
// so Listen fails instead of listening on 127.0.0.1 alone.
func TestListenLocalhostIPv6Taken(t *testing.T) {
	busy, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	l, err := Listen("http://localhost:"+port+"/callback", ListenOptions{})
	if err == nil {
		l.Close()
		t.Fatal("Listen succeeded with [::1] held by someone else")
	}
	if !strings.Contains(err.Error(), "::1") || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("got %v, want it to name ::1 and the port in use", err)
	}
	// The IPv4 half was released: the port is free again on 127.0.0.1.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Errorf("127.0.0.1:%s still bound after the failed Listen: %v", port, err)
	} else {
		ln.Close()
	}
}

// TestListenerIgnoresNotThisLogin: a Check error marked ErrNotThisLogin
// is answered and ignored; the listener keeps waiting.
func TestListenerIgnoresNotThisLogin(t *testing.T) {
	check := func(rd *Redirect) error {
		if rd.Params.Get("state") != "s1" {
			return fmt.Errorf("bad state: %w", ErrNotThisLogin)
		}
		return nil
	}
	l := listen(t, "http://127.0.0.1:0/", ListenOptions{Check: check})
	if st, body := get(t, l.RedirectURI()+"?error=access_denied&state=x"); st != http.StatusBadRequest || !strings.Contains(body, "still waiting") {
		t.Fatalf("foreign redirect: %d %s", st, body)
	}
	if st, _ := get(t, l.RedirectURI()+"?code=c&state=s1"); st != http.StatusOK {
		t.Fatalf("real redirect: %d", st)
	}
	rd, err := Receive(ctxT(t), l, nil, check)
	if err != nil || rd.Params.Get("code") != "c" {
		t.Fatalf("Receive = %+v, %v", rd, err)
	}
}
