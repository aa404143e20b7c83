package testprovider

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FaultStep is one scripted answer of a [Fault] server. The zero FaultStep
// is a normal JSON token response.
type FaultStep struct {
	// Delay is waited before answering (cut short if the client goes away).
	Delay time.Duration
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header holds extra response headers, e.g. {"Retry-After": "1"}.
	Header map[string]string
	// Body is sent verbatim. Empty with Status 0 or 200 means a fresh token
	// response {"access_token":"fault-at-N","token_type":"Bearer",
	// "expires_in":ExpiresIn,"refresh_token":"fault-rt-N"}. Without a
	// Content-Type in Header, a body starting with "<" is sent as text/html,
	// with "{" as application/json, otherwise as text/plain.
	Body string
	// ExpiresIn is the expires_in of a generated token response (0 means 300).
	ExpiresIn int
	// Reset sends the status line, the headers (with the Content-Length of the
	// whole body) and only the first half of the body, then resets the TCP
	// connection.
	Reset bool
}

// Fault is a token endpoint answering from a script, for fault-injection
// tests: every request (any method, any path but /_lanyard/*) consumes the
// next step; when the script is exhausted it answers normal token responses.
type Fault struct {
	// URL is the base URL; every path answers.
	URL string
	// TokenURL is URL + "/token", a conventional path to configure.
	TokenURL string

	srv      *server
	requests atomic.Int64
	mu       sync.Mutex
	script   []FaultStep
	bodies   []string
}

// StartFault starts a Fault server with an empty script.
func StartFault() (*Fault, error) {
	f := &Fault{}
	h := lanyardEndpoints("", &f.requests, func() int64 { return 0 }, func() {}, http.HandlerFunc(f.serve))
	srv, err := startServer(h)
	if err != nil {
		return nil, err
	}
	f.srv, f.URL, f.TokenURL = srv, srv.URL, srv.URL+"/token"
	return f, nil
}

// SetScript replaces the remaining script with steps.
func (f *Fault) SetScript(steps []FaultStep) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append([]FaultStep(nil), steps...)
}

// Requests counts every request answered (or being answered) so far.
func (f *Fault) Requests() int64 { return f.requests.Load() }

// TokenRequests is Requests, for symmetry with the other servers.
func (f *Fault) TokenRequests() int64 { return f.requests.Load() }

// Bodies returns the request bodies received so far, in order of arrival.
func (f *Fault) Bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// Close stops the server.
func (f *Fault) Close() error { return f.srv.close() }

func (f *Fault) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	var st FaultStep
	if len(f.script) > 0 {
		st, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()

	if st.Delay > 0 {
		select {
		case <-time.After(st.Delay):
		case <-r.Context().Done():
			return
		}
	}
	status := st.Status
	if status == 0 {
		status = http.StatusOK
	}
	h := http.Header{}
	for k, v := range st.Header {
		h.Set(k, v)
	}
	out := st.Body
	if out == "" && status == http.StatusOK {
		exp := st.ExpiresIn
		if exp == 0 {
			exp = 300
		}
		out = fmt.Sprintf(`{"access_token":"fault-at-%d","token_type":"Bearer","expires_in":%d,"refresh_token":"fault-rt-%d"}`, n, exp, n)
	}
	if h.Get("Content-Type") == "" {
		switch {
		case strings.HasPrefix(out, "<"):
			h.Set("Content-Type", "text/html; charset=utf-8")
		case strings.HasPrefix(out, "{"):
			h.Set("Content-Type", "application/json")
		default:
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	if st.Reset {
		resetMidBody(w, status, h, out)
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

// resetMidBody writes a response announcing len(body) bytes, sends half of
// them and resets the connection (SO_LINGER 0 makes Close send RST).
func resetMidBody(w http.ResponseWriter, status int, h http.Header, body string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("testprovider: Fault needs a hijackable connection")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	h.Set("Content-Length", fmt.Sprint(len(body)))
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = h.Write(buf)
	buf.WriteString("\r\n")
	buf.WriteString(body[:len(body)/2])
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}
