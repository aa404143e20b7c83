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

	"golang.org/x/time/rate"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/metrics"
	"github.com/lanyardhq/lanyard/internal/peercred"
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
	// MaxConns bounds the connections served at once (default 256); more
	// are closed at once, so a flood of idle clients cannot exhaust the
	// agent's descriptors or memory.
	MaxConns int
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
	// refusalsAudited bounds the audit records of refusals (policy.go).
	refusalsAudited rate.Sometimes
	refusalsSkipped atomic.Int64

	once    sync.Once
	done    chan struct{}
	mu      sync.Mutex
	last    time.Time
	started time.Time
	wg      sync.WaitGroup
	slots   chan struct{}
	// socket is the path served and the file it was when Serve began:
	// Wait returns when it is removed or replaced.
	socket   string
	socketFI os.FileInfo
	// refused counts connections turned away (another uid, too many).
	refused atomic.Int64
}

func (s *Server) init() {
	s.once.Do(func() {
		s.done = make(chan struct{})
		s.started = time.Now()
		s.last = s.started
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
		n := s.MaxConns
		if n <= 0 {
			n = 256
		}
		s.slots = make(chan struct{}, n)
		// The first refusals each, then one a second: a flood of refused
		// connections must not fill the audit queue (and count as audit
		// failures); the skipped ones are counted in the next record.
		s.refusalsAudited.First, s.refusalsAudited.Interval = 16, time.Second
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
	if fi, err := os.Stat(socket); err == nil {
		s.mu.Lock()
		s.socket, s.socketFI = socket, fi
		s.mu.Unlock()
	}
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
			select {
			case s.slots <- struct{}{}:
			default:
				conn.Close()
				s.refuse(peercred.Cred{}, socket, fmt.Sprintf("too many connections open at once (at most %d)", cap(s.slots)))
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-s.slots }()
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
	p, err := peercred.Of(uc)
	if err != nil || !s.allowed(p.UID) {
		why := fmt.Sprintf("uid %d is not allowed on this socket", p.UID)
		if err != nil {
			why = "peer credentials: " + err.Error()
		}
		s.refuse(p, socket, why)
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
		resp.Agent.Refused = s.refused.Load()
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

// Wait blocks until Stop, ctx's end, idleness, or the socket's removal:
// an agent whose socket (or its directory: a deleted test HOME, a
// cleaned runtime dir) is gone can be reached by nobody, and must not
// refresh ahead for an hour.
func (s *Server) Wait(ctx context.Context) {
	s.init()
	for {
		if s.socketGone() {
			s.Log.Info("the socket was removed or replaced; exiting", "socket", s.socket)
			return
		}
		check := 10 * time.Second
		if s.Idle > 0 {
			s.mu.Lock()
			idle := time.Since(s.last)
			s.mu.Unlock()
			if idle >= s.Idle && (s.Pending == nil || !s.Pending()) {
				s.Log.Info("idle; exiting", "idle", idle)
				return
			}
			check = max(min(s.Idle-idle, check), 10*time.Millisecond)
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

// socketGone reports whether the socket Serve began with no longer exists
// at its path (removed, or replaced by another file).
func (s *Server) socketGone() bool {
	s.mu.Lock()
	path, fi := s.socket, s.socketFI
	s.mu.Unlock()
	if fi == nil {
		return false
	}
	now, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist) || err == nil && !os.SameFile(fi, now)
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
