package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/metrics"
)

// Server answers wire requests on unix sockets: one request and one
// response per connection. Every connection is checked for the peer's uid,
// must send its request within ReadTimeout and at most wire.MaxRequest
// bytes, and gets its own goroutine: a silent or huge client is cut off
// without delaying anyone else.
type Server struct {
	// Idle: with no request for this long (and no refresh ahead pending),
	// Wait returns. 0 never.
	Idle time.Duration
	// Pending reports work that keeps an idle server alive (refresh ahead).
	Pending func() bool
	// ReadTimeout bounds the wait for a client's request (default 5s).
	ReadTimeout time.Duration
	// UID is the only peer uid served (default: our own).
	UID *uint32
	// AllowUIDs are other uids served (lanyard agent forward --allow-uid).
	AllowUIDs []uint32
	// Confirm, when set, is asked before a profile's first token to each
	// caller (lanyard agent forward --confirm).
	Confirm Confirmer
	// Audit records hand-outs and refusals (nil: none); Forward names the
	// forward this server is, in those records.
	Audit   *audit.Log
	Forward string
	// Metrics counts requests and hand-outs and answers OpMetrics (nil:
	// no metrics, as on a forward).
	Metrics *metrics.Metrics
	Log     *slog.Logger

	uses atomic.Int64

	once    sync.Once
	done    chan struct{}
	mu      sync.Mutex
	last    time.Time
	started time.Time
	wg      sync.WaitGroup
}

func (s *Server) init() {
	s.once.Do(func() {
		s.done = make(chan struct{})
		s.started = time.Now()
		s.last = s.started
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
	})
}

func (s *Server) uid() uint32 {
	if s.UID != nil {
		return *s.UID
	}
	return uint32(os.Getuid())
}

// Serve accepts connections on ln and answers them with r until ln is
// closed. socket is the path reported by status.
func (s *Server) Serve(ln net.Listener, r wire.Resolver, socket string) {
	s.init()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				s.Log.Warn("accept", "err", err)
				select {
				case <-s.done:
					return
				case <-time.After(50 * time.Millisecond): // EMFILE and friends: do not spin
				}
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serveConn(conn, r, socket)
			}()
		}
	}()
}

func (s *Server) touch() {
	s.mu.Lock()
	s.last = time.Now()
	s.mu.Unlock()
}

func (s *Server) serveConn(conn net.Conn, r wire.Resolver, socket string) {
	defer conn.Close()
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return
	}
	p, err := peerOf(uc)
	if err != nil || !s.allowed(p.UID) {
		s.Log.Warn("refused a connection from another user", "peer_uid", p.UID, "err", err)
		s.refused(p, socket, err)
		return
	}
	timeout := s.ReadTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	req, err := wire.ReadRequest(conn)
	if err != nil {
		s.Log.Debug("bad request", "err", err)
		return
	}
	s.touch()
	defer s.touch()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// The client hanging up cancels its wait (never the refresh: the
		// handler runs that detached).
		var b [1]byte
		_ = conn.SetReadDeadline(time.Time{})
		_, _ = conn.Read(b[:])
		cancel()
	}()
	resp, err := s.local(req)
	if resp == nil && err == nil {
		resp, err = r.Resolve(ctx, req)
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		resp = &wire.Response{Status: wire.StatusError, Message: err.Error()}
	}
	resp = s.gate(ctx, p, socket, req, resp)
	if req.Op == wire.OpStatus || req.Op == wire.OpPing {
		if resp.Agent == nil {
			resp.Agent = &wire.AgentStatus{}
		}
		resp.Agent.PID, resp.Agent.Started, resp.Agent.Socket, resp.Agent.Only = os.Getpid(), s.started, socket, req.Only
		resp.Agent.Uses = s.uses.Load()
		resp.Agent.AuditFailures, resp.Agent.AuditError = s.Audit.Failures()
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := wire.WriteResponse(conn, resp); err != nil {
		s.Log.Debug("could not answer", "err", err)
		return
	}
	if req.Op == wire.OpStop && resp.Status == wire.StatusOK {
		s.Stop()
	}
}

// Stop makes Wait return.
func (s *Server) Stop() {
	s.init()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}

// Wait blocks until Stop, ctx's end, or idleness.
func (s *Server) Wait(ctx context.Context) {
	s.init()
	for {
		check := time.Minute
		if s.Idle > 0 {
			s.mu.Lock()
			idle := time.Since(s.last)
			s.mu.Unlock()
			if idle >= s.Idle && (s.Pending == nil || !s.Pending()) {
				s.Log.Info("idle; exiting", "idle", idle)
				return
			}
			check = max(min(s.Idle-idle, time.Minute), 10*time.Millisecond)
		}
		t := time.NewTimer(check)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Drain waits, at most limit, for the connections being served to finish
// (call it after closing the listeners).
func (s *Server) Drain(limit time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		s.Log.Warn("connections still open at exit", "waited", limit)
	}
}

// ErrRunning means another agent already serves the socket.
var ErrRunning = errors.New("a lanyard agent is already running")

// socketError names the socket in an error.
func socketError(path string, err error) error {
	return fmt.Errorf("agent socket %s: %w", path, err)
}
