package postman

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
)

// shutdownGrace is how long requests in flight may finish after a signal.
const shutdownGrace = 10 * time.Second

// CheckAddr accepts only loopback listen addresses: 127.0.0.1:PORT (any
// 127/8 address), [::1]:PORT or localhost:PORT (which means 127.0.0.1).
// An empty host would listen on every interface and is refused.
func CheckAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w; use 127.0.0.1:PORT", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if !config.IsLoopback(host) {
		return "", fmt.Errorf("--addr %q: lanyard serve listens on loopback only, so other machines cannot ask for tokens; use 127.0.0.1:PORT", addr)
	}
	return net.JoinHostPort(host, port), nil
}

// Listen checks addr with CheckAddr and listens on it.
func Listen(addr string) (net.Listener, error) {
	a, err := CheckAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a)
	if err != nil {
		return nil, fmt.Errorf("could not listen on %s: %w; pick another port with --addr 127.0.0.1:PORT", a, err)
	}
	return ln, nil
}

// Serve answers on ln until ctx is done (SIGINT or SIGTERM in lanyard
// serve), then lets requests in flight finish for a few seconds.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("lanyard serve stopped: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("could not stop lanyard serve cleanly: %w", err)
	}
	return nil
}
