// Package audit is lanyard's record of who got which token: one JSON line
// per event (a hand-out, a refresh or login, a refusal, a forward or proxy
// opened or closed) appended to $XDG_STATE_HOME/lanyard/audit.jsonl
// (env.Env.AuditPath), mode 0600, rotated by size. It never holds a
// token: a hand-out names the token by Fingerprint. Writing never blocks
// the caller: events queue, and a full queue or a failed write is counted
// (Failures), for lanyard agent status.
package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
)

// Event kinds.
const (
	KindHandout      = "handout"       // a token went to a caller
	KindRefusal      = "refusal"       // a caller got no token; Reason says why
	KindRefresh      = "refresh"       // the engine obtained a token without a person
	KindLogin        = "login"         // the engine ran an interactive login
	KindForwardOpen  = "forward_open"  // lanyard agent forward started serving
	KindForwardClose = "forward_close" // ... and stopped (Reason: ttl, closed, interrupted)
	KindProxyOpen    = "proxy_open"    // lanyard proxy started serving
	KindProxyClose   = "proxy_close"
)

// Event is one audit line. Fields that do not apply are left out.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"event"`
	Profile string    `json:"profile,omitempty"`
	Tool    string    `json:"tool,omitempty"`
	// The caller, from the socket's peer credentials (SO_PEERCRED), or its
	// TCP address for the proxy.
	PID  int32   `json:"pid,omitempty"`
	UID  *uint32 `json:"uid,omitempty"`
	Exe  string  `json:"exe,omitempty"`
	Addr string  `json:"addr,omitempty"`
	// Via is the socket path or proxy address that served the caller;
	// Forward names the forward or proxy (its ID), when it was one.
	Via     string `json:"via,omitempty"`
	Forward string `json:"forward,omitempty"`
	// URL is the URL or host the caller asked for.
	URL string `json:"url,omitempty"`
	// Fingerprint is the first 12 hex digits of the token's SHA-256.
	Fingerprint string `json:"fingerprint,omitempty"`
	Result      string `json:"result,omitempty"`
	// Seconds is how long a refresh or login took.
	Seconds   float64  `json:"seconds,omitempty"`
	ErrorCode string   `json:"error_code,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Profiles  []string `json:"profiles,omitempty"`
	TTL       string   `json:"ttl,omitempty"`
}

// Fingerprint names a token in the log: the first 12 hex digits of its
// SHA-256 (wire.Fingerprint, which names a refused token on the wire),
// enough to tell tokens apart, useless to reconstruct one.
func Fingerprint(token string) string {
	if token == "" {
		return ""
	}
	return wire.Fingerprint(token)[:12]
}

// MaxSizeMB is the size at which the log is rotated; MaxBackups old files
// are kept (audit-TIME.jsonl next to it).
const (
	MaxSizeMB  = 10
	MaxBackups = 5
)

// queue is how many events may wait for the writer before new ones are
// dropped (and counted): a stuck disk must not hold up a hand-out.
const queue = 1024

// Log appends events in the background. A nil *Log records nothing.
type Log struct {
	path string
	ch   chan Event
	done chan struct{}
	once sync.Once
	// mu orders Record's send against Close's close of ch: a hand-out
	// racing with the agent's exit must not send on a closed channel.
	mu       sync.RWMutex
	closed   bool
	failures atomic.Int64
	lastErr  atomic.Value // string
}

// Open starts a Log writing to path. Nothing is touched until the first
// event; a failure then is counted, never returned.
func Open(path string) *Log {
	l := &Log{path: path, ch: make(chan Event, queue), done: make(chan struct{})}
	go l.run()
	return l
}

// Record queues e (its Time set to now when zero). It never blocks.
func (l *Log) Record(e Event) {
	if l == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.fail("audit log closed")
		return
	}
	select {
	case l.ch <- e:
	default:
		l.fail("audit queue full: the log cannot keep up")
	}
}

// Failures is how many events could not be written, and why the last one
// failed ("" when none did).
func (l *Log) Failures() (int64, string) {
	if l == nil {
		return 0, ""
	}
	s, _ := l.lastErr.Load().(string)
	return l.failures.Load(), s
}

// Path is the file the log writes.
func (l *Log) Path() string { return l.path }

// Close writes what is queued (waiting at most 2 s) and stops.
func (l *Log) Close() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.ch)
		l.mu.Unlock()
	})
	select {
	case <-l.done:
	case <-time.After(2 * time.Second):
	}
}

func (l *Log) fail(why string) {
	l.failures.Add(1)
	l.lastErr.Store(why)
}

func (l *Log) run() {
	defer close(l.done)
	w := &lumberjack.Logger{Filename: l.path, MaxSize: MaxSizeMB, MaxBackups: MaxBackups}
	defer w.Close()
	for e := range l.ch {
		line, err := json.Marshal(e)
		if err != nil {
			l.fail(err.Error())
			continue
		}
		// lumberjack makes the directory 0755 and new files 0600: make the
		// directory ours first.
		if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
			l.fail(err.Error())
			continue
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			l.fail(err.Error())
		}
	}
}
