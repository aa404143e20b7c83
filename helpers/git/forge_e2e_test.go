//go:build !windows

package git_test

// A test forge shaped like Gitea: its OAuth endpoints at Gitea's paths
// (/login/oauth/authorize, /login/oauth/access_token) in front of the real
// test OpenID provider, and git over HTTP that challenges with Gitea's
// `WWW-Authenticate: Basic realm="Gitea"` and takes the OP's tokens as the
// Basic password of user oauth2.

import (
	"context"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

type testForge struct {
	URL  string
	op   *testprovider.OP
	repo string // URL of repo.git
}

func (w *world) startForge(op *testprovider.OP, realm string) *testForge {
	t := w.t
	root := t.TempDir()
	w.bareRepo(root, "repo")
	opToken, _ := url.Parse(op.TokenURL)
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: opToken.Scheme, Host: opToken.Host})
		r.Out.URL.Path = opToken.Path
		r.Out.Host = opToken.Host
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("/login/oauth/authorize", func(rw http.ResponseWriter, r *http.Request) {
		// Gitea needs no scope; the OP (OpenID) needs openid.
		q := r.URL.Query()
		if q.Get("scope") == "" {
			q.Set("scope", "openid")
		}
		http.Redirect(rw, r, op.AuthURL+"?"+q.Encode(), http.StatusFound)
	})
	mux.Handle("/login/oauth/access_token", proxy)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "oauth2" || !op.Valid(pass) {
			rw.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
			http.Error(rw, "Unauthorized", http.StatusUnauthorized)
			return
		}
		(&cgi.Handler{Path: w.git, Args: []string{"http-backend"}, Root: "/", Env: []string{
			"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user, "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root,
		}}).ServeHTTP(rw, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testForge{URL: srv.URL, op: op, repo: srv.URL + "/repo.git"}
}

// scriptedBrowser sets BROWSER to a script that hands the URL to the test
// through a FIFO, and returns a channel of the logins it completed (nil
// error) as the test user: the forge's authorize redirect, the OP's login
// form, then the redirect to lanyard's listener.
func (w *world) scriptedBrowser(f *testForge) <-chan error { return w.scriptedBrowserAs(f, true) }

// scriptedBrowserAs is scriptedBrowser with the user pressing Allow
// (allow) or Deny at the provider's login page.
func (w *world) scriptedBrowserAs(f *testForge, allow bool) <-chan error {
	t := w.t
	fifo := filepath.Join(t.TempDir(), "browser.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	w.browserLog = filepath.Join(t.TempDir(), "browser.log")
	script := filepath.Join(t.TempDir(), "browser.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho opened >> "+w.browserLog+"\nprintf '%s\\n' \"$1\" > "+fifo+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	w.env.Set("BROWSER", script)
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			b, err := os.ReadFile(fifo) // blocks until the browser is started
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, string(b[:len(b)-1]), nil)
			resp, err := noFollow.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if loc == "" {
				return errors.New("the forge's authorize endpoint did not redirect")
			}
			scripted := f.op.ScriptedLogin
			if !allow {
				scripted = f.op.ScriptedDeny
			}
			back, err := scripted(ctx, loc)
			if err != nil {
				return err
			}
			req, _ = http.NewRequestWithContext(ctx, http.MethodGet, back.String(), nil)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if allow && resp.StatusCode != http.StatusOK {
				return errors.New("the listener answered " + resp.Status)
			}
			return nil
		}()
	}()
	return done
}
