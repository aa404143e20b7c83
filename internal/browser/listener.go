package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
)

// Redirect is the authorization server's answer, as the browser brought it
// back to the listener or as the person pasted it.
type Redirect struct {
	// Params are the redirect's parameters: query and fragment merged, the
	// fragment winning (the implicit grant answers in the fragment).
	Params url.Values
	// BareCode is set when only the code was pasted: there is no state to
	// check, the person vouches for it.
	BareCode bool
	// Pasted is set when the redirect came from the terminal, not the listener.
	Pasted bool
}

// ListenOptions configure [Listen].
type ListenOptions struct {
	// Fragment serves, on a GET without parameters, a page whose inline
	// script posts location.hash back to the listener: the implicit grant's
	// token is in the URL fragment, which browsers never send to servers.
	Fragment bool
	// FormPost accepts the authorization response as a form POSTed by the
	// provider's page (response_mode=form_post): from the provider's
	// origin, so no Origin check; the state check decides, as for GET.
	FormPost bool
	// Check judges a redirect; its error is shown in the browser and
	// returned by [Receive]. nil accepts everything.
	//
	// A Check error wrapping [ErrNotThisLogin] (wrong or missing state)
	// does not end the login: the browser is told so and the listener
	// keeps waiting, so a web page cannot end a login on a fixed port.
	Check func(*Redirect) error
}

// ErrNotThisLogin marks a redirect that does not belong to the login
// waiting for it: its state is missing or wrong (RFC 6749 §10.12).
var ErrNotThisLogin = errors.New("the redirect does not belong to this login")

// Listener is a one-shot HTTP server on a loopback address that receives
// the redirect of an interactive login (RFC 8252 §7.3).
type Listener struct {
	uri   string
	path  string
	hosts map[string]bool // acceptable Host headers (DNS rebinding)
	opt   ListenOptions
	srvs  []*http.Server
	lns   []net.Listener

	once    sync.Once
	results chan outcome

	closeOnce sync.Once
}

type outcome struct {
	r   *Redirect
	err error
}

// oauthKeys are the parameters that make a request an authorization response.
var oauthKeys = []string{"code", "access_token", "id_token", "error", "state"}

func hasOAuthParams(v url.Values) bool {
	for _, k := range oauthKeys {
		if v.Has(k) {
			return true
		}
	}
	return false
}

// IsLoopback reports whether redirectURI is http:// on 127.0.0.1 (or any
// 127/8 address), [::1] or localhost: a redirect lanyard can receive itself.
// Anything else is a callback only the person can bring back (paste mode).
func IsLoopback(redirectURI string) bool {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" || u.User != nil {
		return false
	}
	return config.IsLoopback(u.Hostname())
}

// Listen starts the listener for a loopback redirectURI. Without a port, or
// with port 0, the system picks a free one (RFC 8252 §7.3: servers accept
// any port for loopback redirects); [Listener.RedirectURI] is then the URI
// to send. "localhost" listens on 127.0.0.1 and, on the same port, [::1]
// when the system has IPv6, since browsers may resolve either; if [::1]
// cannot be bound (another user holds it), Listen fails.
func Listen(redirectURI string, opt ListenOptions) (*Listener, error) {
	u, err := url.Parse(redirectURI)
	if err != nil || !IsLoopback(redirectURI) {
		return nil, fmt.Errorf("redirect_uri %q is not a loopback http URL; use e.g. http://127.0.0.1:0/callback", redirectURI)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("redirect_uri %q must not contain a fragment (RFC 6749 §3.1.2)", redirectURI)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "0"
	}
	bind := host
	if host == "localhost" {
		bind = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bind, port))
	if err != nil {
		return nil, bindError(bind, port, redirectURI, err)
	}
	l := &Listener{opt: opt, results: make(chan outcome, 1), lns: []net.Listener{ln}}
	port = fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	if host == "localhost" {
		// The browser may resolve localhost to ::1: if another local user
		// holds [::1]:PORT, the redirect (code and state) would go to them
		// (RFC 8252 §8.3). Only a system without IPv6 may skip it.
		ln6, err := net.Listen("tcp", net.JoinHostPort("::1", port))
		switch {
		case err == nil:
			l.lns = append(l.lns, ln6)
		case errors.Is(err, syscall.EAFNOSUPPORT), errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EPROTONOSUPPORT):
		default:
			_ = ln.Close()
			return nil, bindError("::1", port, redirectURI, err)
		}
	}
	nu := *u
	nu.Host = net.JoinHostPort(host, port)
	l.uri = nu.String()
	l.path = nu.Path
	if l.path == "" {
		l.path = "/"
	}
	l.hosts = map[string]bool{strings.ToLower(nu.Host): true}
	for _, ln := range l.lns {
		srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
		l.srvs = append(l.srvs, srv)
		go func() { _ = srv.Serve(ln) }()
	}
	return l, nil
}

func bindError(bind, port, redirectURI string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("cannot receive the login redirect: port %s on %s (redirect_uri %s) is already in use, maybe by another lanyard login or another user; stop that program, or change the port in redirect_uri (port 0 picks a free one if the provider allows any port; http://127.0.0.1 avoids localhost's two addresses)", port, bind, redirectURI)
	}
	return fmt.Errorf("cannot receive the login redirect on %s (redirect_uri %s): %w", net.JoinHostPort(bind, port), redirectURI, err)
}

// RedirectURI is the redirect_uri to send: the configured one with the
// port actually bound.
func (l *Listener) RedirectURI() string { return l.uri }

// Close stops the listener, letting a page being answered finish.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, s := range l.srvs {
			if err := s.Shutdown(ctx); err != nil {
				_ = s.Close()
			}
		}
	})
	return nil
}

// ServeHTTP receives the redirect (GET with query) or, in fragment mode,
// serves the page that posts the fragment back (POST with a form body).
func (l *Listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A DNS-rebinding page could reach us under its own host name.
	if !l.hosts[strings.ToLower(r.Host)] {
		http.Error(w, "wrong host", http.StatusMisdirectedRequest)
		return
	}
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if !hasOAuthParams(q) {
			if l.opt.Fragment {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = io.WriteString(w, fragmentPage)
				return
			}
			writePage(w, http.StatusBadRequest, "No login response here", "This address did not carry an authorization response. lanyard is still waiting; finish the login in the browser, or paste the URL you were sent to in the terminal.")
			return
		}
		l.finish(w, &Redirect{Params: q}, true)
	case http.MethodPost:
		if !l.opt.Fragment && !l.opt.FormPost {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Only our own page posts the fragment here: a cross-origin page
		// must not. A form_post comes from the provider's page.
		if o := r.Header.Get("Origin"); l.opt.Fragment && o != "" && !l.hosts[strings.ToLower(strings.TrimPrefix(o, "http://"))] {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			http.Error(w, "expected application/x-www-form-urlencoded", http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		params, err := url.ParseQuery(strings.TrimPrefix(strings.TrimSpace(string(body)), "#"))
		if err == nil && l.opt.FormPost && hasOAuthParams(params) {
			l.finish(w, &Redirect{Params: params}, true)
			return
		}
		if err != nil || !hasOAuthParams(params) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "This page did not carry an authorization response (no URL fragment). lanyard is still waiting; finish the login in the browser, or paste the full URL in the terminal.")
			return
		}
		l.finish(w, &Redirect{Params: params}, false)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// finish judges the redirect, answers the browser and hands the outcome to
// Receive; only the first one counts.
func (l *Listener) finish(w http.ResponseWriter, rd *Redirect, html bool) {
	var err error
	if l.opt.Check != nil {
		err = l.opt.Check(rd)
	}
	if errors.Is(err, ErrNotThisLogin) {
		// Not ours: answer, and keep waiting for the real redirect.
		answer(w, html, http.StatusBadRequest, "Not this login", "This response does not belong to the login lanyard is waiting for (its state is missing or wrong), so it was ignored. lanyard is still waiting.")
		return
	}
	first := false
	l.once.Do(func() { first = true })
	status, title, msg := http.StatusOK, "Logged in", "lanyard received the login. You can close this tab and return to the terminal."
	switch {
	case !first:
		status, title, msg = http.StatusConflict, "Already done", "This login has already finished. Return to the terminal."
	case err != nil:
		status, title, msg = http.StatusBadRequest, "Login failed", "lanyard could not use this login: "+err.Error()+". Return to the terminal."
	}
	answer(w, html, status, title, msg)
	if first {
		l.results <- outcome{rd, err}
	}
}

func answer(w http.ResponseWriter, html bool, status int, title, msg string) {
	if html {
		writePage(w, status, title, msg)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, title+". "+msg)
}
