package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
)

// startBare runs a proxy with no profiles on 127.0.0.1.
func startBare(t *testing.T) string {
	t.Helper()
	ca, err := NewCA("test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{Profiles: &config.File{Profiles: map[string]*config.Profile{}}, CA: ca, DenyOthers: true, Name: ln.Addr().String()}
	done := make(chan struct{})
	go func() { _ = p.Serve(ctx, ln, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

func status(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return "write: " + err.Error()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "read: " + err.Error()
	}
	return strings.TrimSpace(line)
}

// Garbage, oversize headers and a crowd of idle connections are cut off by
// bounds; a well-formed request still gets its answer meanwhile.
func TestBounds(t *testing.T) {
	addr := startBare(t)
	var idle []net.Conn
	for range 200 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	tests := []struct{ name, raw, want string }{
		{"garbage", "\x16\x03\x01 not http at all\r\n\r\n", "HTTP/1.1 400"},
		{"oversize header block", "GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + strings.Repeat("a", 2*MaxHeaderBytes) + "\r\n\r\n", "HTTP/1.1 431"},
		{"origin-form request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400"},
		{"another host with --deny-others", "CONNECT example.invalid:443 HTTP/1.1\r\nHost: example.invalid:443\r\n\r\n", "HTTP/1.1 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			if got := status(t, addr, tt.raw); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want %s", got, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s with 200 idle connections open", d)
			}
		})
	}
	// http.Client through the proxy gets the refusal, not a hang.
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("direct GET: %d, want 400", resp.StatusCode)
	}
}
