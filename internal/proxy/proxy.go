// Package proxy is `lanyard proxy`: an HTTP proxy for a sandbox that adds
// profiles' tokens to the requests it forwards, so the sandbox uses tokens
// it never holds. For hosts the profiles match it terminates TLS with a
// certificate from a CA it made at start (the sandbox trusts that CA),
// verifies the upstream's certificate against the system roots, and sets
// Authorization; other hosts are tunnelled byte for byte, or refused.
package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/config"
	"golang.org/x/net/netutil"
)

// Bounds on what one client may make the proxy hold.
const (
	MaxHeaderBytes    = 64 << 10
	MaxConns          = 512
	ReadHeaderTimeout = 10 * time.Second
	IdleTimeout       = 60 * time.Second
	DialTimeout       = 10 * time.Second
)

// Confirmer asks a person whether key (a profile and a caller) may get a
// token (internal/confirm.Asker).
type Confirmer interface {
	Ask(ctx context.Context, key, description string) error
}

// Proxy serves one `lanyard proxy`. Set the fields, then Serve.
type Proxy struct {
	// Profiles are the profiles it serves (their match prefixes pick the
	// hosts it intercepts); Resolver hands out their tokens (the agent).
	Profiles *config.File
	Resolver wire.Resolver
	CA       *CA
	// DenyOthers refuses hosts no profile matches instead of tunnelling.
	DenyOthers bool
	// Confirm, when set, is asked before a profile's first token to a caller.
	Confirm Confirmer
	// Upstream is the transport to intercepted hosts (default: full
	// verification against the system roots, which SSL_CERT_FILE replaces).
	Upstream http.RoundTripper
	Audit    *audit.Log
	// Name identifies this proxy in the audit log (its listen address).
	Name string
	Log  *slog.Logger

	mu      sync.Mutex
	inner   map[*http.Server]struct{}
	tunnels map[net.Conn]struct{}
	closed  bool
	names   []string
}

func (p *Proxy) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// DefaultUpstream is the transport to intercepted hosts: no proxy of its
// own (never back through us), certificates verified against the system
// roots (SSL_CERT_FILE replaces them), bounded waits, and, as every
// http.Transport, redirects returned to the client, never followed.
func DefaultUpstream() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: DialTimeout}).DialContext,
		TLSHandshakeTimeout:   DialTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		IdleConnTimeout:       IdleTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// Serve answers proxy requests on ln until ctx ends, then takes no new
// request, lets those in flight finish (at most drain), and returns.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	if p.Upstream == nil {
		p.Upstream = DefaultUpstream()
	}
	p.names = p.Profiles.Names()
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(p.log().Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(netutil.LimitListener(ln, MaxConns)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	p.mu.Lock()
	p.closed = true
	inner := make([]*http.Server, 0, len(p.inner))
	for s := range p.inner {
		inner = append(inner, s)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range append(inner, srv) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Shutdown(dctx) }()
	}
	wg.Wait()
	// Tunnels carry no token; they end with the proxy.
	p.mu.Lock()
	for c := range p.tunnels {
		c.Close()
	}
	p.mu.Unlock()
	return nil
}

// ServeHTTP answers one request on the proxy's own port: CONNECT, or a
// plain-http request in absolute form.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if !r.URL.IsAbs() || r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "lanyard proxy: this is an HTTP proxy; set HTTPS_PROXY=http://"+p.Name+" (and HTTP_PROXY) in the client", http.StatusBadRequest)
		return
	}
	p.plain(w, r)
}

// hostPort is host:port with the scheme's default port filled in.
func hostPort(hostport, defaultPort string) (string, string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, defaultPort
		if strings.ContainsAny(host, ":[]") || host == "" {
			return "", "", fmt.Errorf("bad host %q", hostport)
		}
	}
	return host, port, nil
}

// intercepts reports whether a profile matches https://host:port.
func (p *Proxy) intercepts(host, port string) bool {
	return p.Profiles.Match("https://"+net.JoinHostPort(host, port)+"/") != nil
}

func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := hostPort(r.Host, "443")
	if err != nil {
		http.Error(w, "lanyard proxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	target := net.JoinHostPort(host, port)
	if p.intercepts(host, port) {
		conn, err := hijack(w)
		if err != nil {
			return
		}
		p.intercept(conn, host, port, r.RemoteAddr)
		return
	}
	if p.DenyOthers {
		p.refuse(r, target, "no profile of this proxy matches the host, and --deny-others is set")
		http.Error(w, "lanyard proxy: "+target+" is not one of this proxy's hosts (--deny-others)", http.StatusForbidden)
		return
	}
	up, err := net.DialTimeout("tcp", target, DialTimeout)
	if err != nil {
		http.Error(w, "lanyard proxy: could not reach "+target+": "+err.Error(), http.StatusBadGateway)
		return
	}
	conn, err := hijack(w)
	if err != nil {
		up.Close()
		return
	}
	p.tunnel(conn, up)
}

// hijack takes the client connection and says the tunnel is open. Bytes
// the client sent early (after its CONNECT) stay readable from the
// returned conn.
func hijack(w http.ResponseWriter) (net.Conn, error) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		conn.Close()
		return nil, err
	}
	if rw.Reader.Buffered() > 0 {
		return &bufConn{Conn: conn, r: rw.Reader}, nil
	}
	return conn, nil
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// tunnel copies bytes both ways until either side ends.
func (p *Proxy) tunnel(client, up net.Conn) {
	if !p.track(client, true) {
		client.Close()
		up.Close()
		return
	}
	defer p.track(client, false)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go cp(up, client)
	go cp(client, up)
	<-done
	<-done
	client.Close()
	up.Close()
}

func (p *Proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add && p.closed {
		return false
	}
	if p.tunnels == nil {
		p.tunnels = map[net.Conn]struct{}{}
	}
	if add {
		p.tunnels[c] = struct{}{}
	} else {
		delete(p.tunnels, c)
	}
	return true
}

// intercept serves HTTP over TLS on the client connection, as host, with
// a certificate of the proxy's CA.
func (p *Proxy) intercept(conn net.Conn, host, port, remote string) {
	leaf, err := p.CA.Leaf(host)
	if err != nil {
		conn.Close()
		return
	}
	tconn := tlsServer(conn, leaf)
	origin := "https://" + host
	if port != "443" {
		origin += ":" + port
	}
	inner := &http.Server{
		Handler:           p.handler(origin, remote),
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(p.log().Handler(), slog.LevelDebug),
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		conn.Close()
		return
	}
	if p.inner == nil {
		p.inner = map[*http.Server]struct{}{}
	}
	p.inner[inner] = struct{}{}
	p.mu.Unlock()
	ln := newOneConn(tconn)
	inner.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed || s == http.StateHijacked {
			ln.Close()
		}
	}
	_ = inner.Serve(ln)
	p.mu.Lock()
	delete(p.inner, inner)
	p.mu.Unlock()
}

// plain forwards a plain-http request: a token only for a loopback host a
// profile matches (anything else would cross a network in clear).
func (p *Proxy) plain(w http.ResponseWriter, r *http.Request) {
	host, port, err := hostPort(r.URL.Host, "80")
	if err != nil {
		http.Error(w, "lanyard proxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	origin := "http://" + net.JoinHostPort(host, port)
	matched := p.Profiles.Match(origin+"/") != nil
	if !matched && p.DenyOthers {
		p.refuse(r, origin, "no profile of this proxy matches the host, and --deny-others is set")
		http.Error(w, "lanyard proxy: "+origin+" is not one of this proxy's hosts (--deny-others)", http.StatusForbidden)
		return
	}
	if matched && !loopback(host) {
		// Forwarded without a token: say so in the log.
		p.refuse(r, origin, "plain http to a host that is not loopback never gets a token")
		matched = false
	}
	p.handler(origin, r.RemoteAddr).forward(w, r, matched)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *Proxy) refuse(r *http.Request, target, why string) {
	p.Audit.Record(audit.Event{Kind: audit.KindRefusal, Tool: wire.ToolProxy, Addr: r.RemoteAddr, Via: p.Name, Forward: p.Name, URL: target, Reason: why})
}

// originHandler serves requests for one upstream origin.
type originHandler struct {
	p      *Proxy
	origin string
	remote string
}

func (p *Proxy) handler(origin, remote string) *originHandler {
	return &originHandler{p: p, origin: origin, remote: remote}
}

func (h *originHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.forward(w, r, true)
}

// forward sends r to the origin, with the token of the profile that
// serves its URL when withToken, and returns the answer as it is
// (redirects included: the client decides, and its next request comes
// back through the proxy for that host).
func (h *originHandler) forward(w http.ResponseWriter, r *http.Request, withToken bool) {
	p := h.p
	target, err := url.Parse(h.origin + r.URL.RequestURI())
	if err != nil {
		http.Error(w, "lanyard proxy: bad request URI", http.StatusBadRequest)
		return
	}
	auth, token, profile := "", "", ""
	if withToken {
		auth, token, profile, err = h.token(r.Context(), r, target)
		if err != nil {
			http.Error(w, "lanyard proxy: "+err.Error(), http.StatusForbidden)
			return
		}
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = ""
			pr.Out.Header.Del("Proxy-Authorization")
			// The sandbox's own credentials for a host the proxy serves are
			// replaced, never passed along beside the token.
			if withToken {
				pr.Out.Header.Del("Authorization")
				if auth != "" {
					pr.Out.Header.Set("Authorization", auth)
				}
			}
		},
		Transport: p.Upstream,
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusUnauthorized && token != "" {
				// The server refused the token: the agent drops it (if it is
				// still the current one), so the next request gets a new one.
				_, _ = p.Resolver.Resolve(context.WithoutCancel(r.Context()), &wire.Request{Op: wire.OpErase, Tool: wire.ToolProxy, Profile: profile, URL: target.String(), Rejected: wire.Fingerprint(token), Only: p.names})
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			// Never the token: err is about the connection.
			http.Error(w, "lanyard proxy: upstream "+h.origin+": "+err.Error(), http.StatusBadGateway)
		},
		ErrorLog: slog.NewLogLogger(p.log().Handler(), slog.LevelDebug),
	}
	rp.ServeHTTP(w, r)
}

// token asks the agent for the token of the profile that serves target.
// No profile serving it (another path on a matched host) is no error: the
// request goes without a token.
func (h *originHandler) token(ctx context.Context, r *http.Request, target *url.URL) (auth, token, profile string, err error) {
	p := h.p
	u := target.String()
	prof := p.Profiles.Match(u)
	if prof == nil {
		return "", "", "", nil
	}
	ev := audit.Event{Tool: wire.ToolProxy, Profile: prof.Name, Addr: h.remote, Via: p.Name, Forward: p.Name, URL: redact(target)}
	if p.Confirm != nil {
		caller, _, _ := net.SplitHostPort(h.remote)
		desc := fmt.Sprintf("lanyard proxy %s: allow a client at %s to use profile %s for %s?", p.Name, caller, prof.Name, h.origin)
		if err := p.Confirm.Ask(ctx, prof.Name+"\x00"+caller, desc); err != nil {
			ev.Kind, ev.Reason = audit.KindRefusal, "confirm: "+err.Error()
			p.Audit.Record(ev)
			return "", "", "", fmt.Errorf("profile %s: %v", prof.Name, err)
		}
	}
	resp, err := p.Resolver.Resolve(ctx, &wire.Request{Op: wire.OpGet, Tool: wire.ToolProxy, Profile: prof.Name, URL: u, Only: p.names})
	if err != nil {
		ev.Kind, ev.Reason = audit.KindRefusal, err.Error()
		p.Audit.Record(ev)
		return "", "", "", fmt.Errorf("no token for profile %s: %v", prof.Name, err)
	}
	switch resp.Status {
	case wire.StatusOK:
	case wire.StatusNoMatch:
		return "", "", "", nil
	default:
		ev.Kind, ev.Reason = audit.KindRefusal, resp.Status+": "+resp.Message
		p.Audit.Record(ev)
		return "", "", "", fmt.Errorf("no token for profile %s: %s", prof.Name, resp.Message)
	}
	ev.Kind, ev.Fingerprint = audit.KindHandout, audit.Fingerprint(resp.Token)
	p.Audit.Record(ev)
	return Authorization(r.UserAgent(), resp), resp.Token, prof.Name, nil
}

// redact is u without its query (it may carry credentials of its own).
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.User, c.Fragment = "", nil, ""
	return c.String()
}

// oneConn is a listener that yields one connection, then waits until it
// is closed: http.Server over a connection the proxy already holds.
type oneConn struct {
	conn net.Conn
	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	used bool
}

func newOneConn(c net.Conn) *oneConn { return &oneConn{conn: c, done: make(chan struct{})} }

func (l *oneConn) Accept() (net.Conn, error) {
	l.mu.Lock()
	if !l.used {
		l.used = true
		l.mu.Unlock()
		return l.conn, nil
	}
	l.mu.Unlock()
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConn) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *oneConn) Addr() net.Addr { return l.conn.LocalAddr() }
