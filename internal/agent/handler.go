// Package agent is the lanyard agent: one per-user process that owns token
// state in memory, runs the engine, and answers the thin helpers over a
// unix socket (server.go). Its Handler turns one wire.Request into a
// wire.Response; the same Handler, in-process, serves `lanyard-engine agent
// oneshot` (LANYARD_AGENT=off and interactive logins) and the helpers'
// unit tests.
package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/metrics"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// Handler answers wire requests from the profiles file and the engine,
// keeping the tokens it handed out in memory.
type Handler struct {
	Getenv func(string) string
	// Open builds the engine; it is called once per Handler that needs
	// one, so the keyring is unlocked once per agent lifetime.
	Open func() (*engine.Engine, error)
	// Interactive lets a request that says so run a login (oneshot only:
	// the agent has no terminal and never logs in).
	Interactive bool
	// Timeout bounds one refresh or grant (default 2m). It runs detached
	// from the caller: a caller killed mid-refresh never aborts it.
	Timeout time.Duration
	// Recent: profiles used within this long are refreshed ahead of expiry
	// (default 1h; LANYARD_AGENT_REFRESH_AHEAD, 0 turns it off).
	Recent time.Duration
	Now    func() time.Time
	// Audit records refreshes and logins (nil: none); Metrics counts them.
	Audit   *audit.Log
	Metrics *metrics.Metrics

	mu       sync.Mutex
	eng      *engine.Engine
	cfg      *config.File
	cfgErr   error
	cfgStamp string
	mem      map[string]*entry
	wake     chan struct{}
	flights  singleflight.Group
	logins   loginMemory // login.go
}

// entry is what the agent knows about one profile.
type entry struct {
	tok      *engine.Token
	prof     *config.Profile
	lastUsed time.Time
	// refresh ahead: the next attempt after a failure, how many failed in a
	// row, why the last one failed, and whether it is pointless (no way to
	// refresh without a person).
	retryAt  time.Time
	failures int
	lastErr  string
	noAhead  bool
	// forwardNext: before it, a forward's request costs no token request
	// (forwardpolicy.go).
	forwardNext time.Time
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return 2 * time.Minute
}

// Resolve answers one request. Failures the user must act on are
// responses (status error or login_required with a message), not errors.
func (h *Handler) Resolve(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	if req.Only == nil {
		return h.resolve(ctx, req)
	}
	fwd, refused := forwardRequest(req)
	if refused != nil {
		return refused, nil
	}
	resp, err := h.resolve(ctx, fwd)
	if resp != nil {
		resp = forwardAnswer(resp, req.Profile)
	}
	return resp, err
}

func (h *Handler) resolve(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	var only map[string]bool
	if req.Only != nil {
		only = map[string]bool{}
		for _, n := range req.Only {
			only[n] = true
		}
	}
	switch req.Op {
	case wire.OpPing:
		return &wire.Response{Status: wire.StatusOK}, nil
	case wire.OpStop:
		if only != nil {
			return failure(errors.New("a forwarding socket cannot stop the agent; run lanyard agent stop on the agent's machine")), nil
		}
		return &wire.Response{Status: wire.StatusOK}, nil
	case wire.OpStatus:
		return &wire.Response{Status: wire.StatusOK, Agent: &wire.AgentStatus{Profiles: h.Status(only)}}, nil
	case wire.OpForget:
		if only != nil {
			return failure(errors.New("a forwarding socket cannot make the agent forget; run lanyard logout on the agent's machine")), nil
		}
		h.forget(req.Profile)
		return &wire.Response{Status: wire.StatusOK}, nil
	case wire.OpGet, wire.OpErase:
		if only == nil && req.Config != "" && filepath.Clean(req.Config) != filepath.Clean(config.Path(h.Getenv)) {
			return &wire.Response{Status: wire.StatusOtherConfig, Message: "the agent serves profiles file " + config.Path(h.Getenv) + ", not " + req.Config}, nil
		}
	default:
		return failure(fmt.Errorf("unknown agent operation %q; the helper and the agent are different versions: run lanyard agent stop", req.Op)), nil
	}
	p, resp := h.pick(req, only)
	if resp != nil {
		return resp, nil
	}
	if req.Op == wire.OpErase && req.IssuedBy != "" && req.IssuedBy != p.Name {
		return &wire.Response{Status: wire.StatusOK, Profile: p.Name, Source: source(p)}, nil
	}
	if req.Op == wire.OpErase || req.Rejected != "" {
		dropped := false
		// A forward erases (and so refreshes) at most once per period.
		if req.Only == nil || h.forwardMayRefresh(p.Name) {
			var err error
			if dropped, err = h.erase(ctx, p, req.Rejected); err != nil {
				return failure(err), nil
			}
		}
		if req.Op == wire.OpErase {
			return &wire.Response{Status: wire.StatusOK, Profile: p.Name, Source: source(p), Dropped: dropped}, nil
		}
	}
	t, err := h.token(ctx, p, req)
	if err != nil && req.BrowserLogin && engine.IsLoginRequired(err) {
		t, err = h.browserLogin(ctx, p, req, err) // login.go
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		resp := failure(err)
		resp.Profile = p.Name
		return resp, nil
	}
	c := engine.Handout(t, p)
	names := p.EnvInputs()
	return &wire.Response{
		Status:         wire.StatusOK,
		Token:          c.Value,
		TokenType:      c.Type,
		Expiry:         c.Expiry,
		Profile:        p.Name,
		Source:         source(p),
		GitUsername:    p.GitUsername,
		GitAuth:        p.GitAuth,
		DockerUsername: p.DockerUsername,
		CargoAuth:      p.CargoAuth,
		PipUsername:    p.PipUsername,
		Prefix:         p.ServedPrefix(req.URL),
		EnvNames:       names,
		EnvDigest:      wire.EnvDigest(h.getenv, names),
	}, nil
}

func (h *Handler) getenv(name string) string {
	if h.Getenv == nil {
		return os.Getenv(name)
	}
	return h.Getenv(name)
}

// source is where p is defined, for messages.
func source(p *config.Profile) string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// failure turns an error into the response a helper prints.
func failure(err error) *wire.Response {
	var le *engine.LoginRequiredError
	if errors.As(err, &le) {
		return &wire.Response{Status: wire.StatusLoginRequired, Profile: le.Profile, Message: err.Error()}
	}
	var ce *config.Error
	if errors.As(err, &ce) || errors.Is(err, config.ErrNoProfile) {
		return &wire.Response{Status: wire.StatusBadConfig, Message: err.Error()}
	}
	return &wire.Response{Status: wire.StatusError, Message: err.Error()}
}

func noMatch() *wire.Response { return &wire.Response{Status: wire.StatusNoMatch} }

// config returns the profiles file, read again when it changed on disk, so
// profile edits take effect without restarting the agent.
func (h *Handler) config(only map[string]bool) (*config.File, error) {
	cfg, err := h.load()
	if err != nil || only == nil {
		return cfg, err
	}
	sub := &config.File{Path: cfg.Path, Profiles: map[string]*config.Profile{}}
	for name, p := range cfg.Profiles {
		if only[name] {
			sub.Profiles[name] = p
		}
	}
	return sub, nil
}

func (h *Handler) load() (*config.File, error) {
	path := config.Path(h.Getenv)
	stamp := "missing"
	if fi, err := os.Stat(path); err == nil {
		stamp = fmt.Sprint(fi.ModTime().UnixNano(), fi.Size())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if stamp == h.cfgStamp && (h.cfg != nil || h.cfgErr != nil) {
		return h.cfg, h.cfgErr
	}
	cfg, err := config.Load(path)
	h.cfg, h.cfgErr, h.cfgStamp = cfg, err, stamp
	return cfg, err
}

// pick finds the profile that serves req (config.Select decides). A
// non-nil response is the answer (no match, or an error).
func (h *Handler) pick(req *wire.Request, only map[string]bool) (*config.Profile, *wire.Response) {
	cfg, err := h.config(only)
	p, err := config.Select(cfg, err, config.Query{Tool: req.Tool, Profile: req.Profile, URL: req.URL,
		Candidates: req.Candidates, ClusterProfile: req.ClusterProfile, Use: req.Use, Resource: req.Resource})
	switch {
	case err != nil:
		return nil, failure(err)
	case p == nil:
		return nil, noMatch()
	}
	return p, nil
}

// engine opens the engine once.
func (h *Handler) engine() (*engine.Engine, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.eng != nil {
		return h.eng, nil
	}
	eng, err := h.Open()
	if err != nil {
		return nil, err
	}
	h.eng = eng
	return eng, nil
}

// token answers from memory when the token there is fresh enough, else
// from the engine, with one engine call per profile however many callers
// wait for it.
func (h *Handler) token(ctx context.Context, p *config.Profile, req *wire.Request) (*engine.Token, error) {
	if req.Only != nil {
		// A forward: a token still good is the answer unless this
		// forward may cost a token request now.
		h.mu.Lock()
		e := h.mem[p.Name]
		now := h.now()
		good := e != nil && e.tok != nil && engine.FreshFor(e.tok, p, 0, now) &&
			(req.ForceRefresh || !engine.FreshFor(e.tok, p, req.MinTTL, now))
		h.mu.Unlock()
		if good && !h.forwardMayRefresh(p.Name) {
			h.Metrics.MemoryHit()
			return e.tok, nil
		}
	}
	if !req.ForceRefresh {
		h.mu.Lock()
		e := h.mem[p.Name]
		if e != nil && e.tok != nil && engine.FreshFor(e.tok, p, req.MinTTL, h.now()) {
			e.lastUsed = h.now()
			t := e.tok
			h.mu.Unlock()
			h.Metrics.MemoryHit()
			return t, nil
		}
		h.mu.Unlock()
	}
	interactive := h.Interactive && req.Interactive
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%t\x00%t", p.Name, p.CacheKey(), p.Use, req.MinTTL, req.ForceRefresh, interactive)
	ch := h.flights.DoChan(key, func() (any, error) {
		eng, err := h.engine()
		if err != nil {
			return nil, err
		}
		opt := engine.Options{MinTTL: req.MinTTL, ForceRefresh: req.ForceRefresh}
		var c context.Context
		if interactive {
			// A login waits for a person; the caller's context bounds it.
			// Prompts and the paste fallback use the terminal when there
			// is one, else the URL goes to stderr (a browser login needs
			// no terminal: kubectl's spec.interactive says a person is
			// there).
			opt.Interactive = true
			if t, err := tty.Open(); err == nil {
				defer t.Close()
				eng.Stdin, eng.UI = t, t
			}
			c = ctx
		} else {
			// Kill-proof: the caller going away never aborts a refresh that
			// has started; its result is saved and kept for the next caller.
			var cancel context.CancelFunc
			c, cancel = context.WithTimeout(context.WithoutCancel(ctx), h.timeout())
			defer cancel()
		}
		t, err := h.obtain(c, eng, p, opt)
		h.remember(p, t, err, true)
		return t, err
	})
	return awaitToken(ctx, ch)
}

// awaitToken waits for a flight's token, or for ctx to end: the flight
// goes on for the other callers.
func awaitToken(ctx context.Context, ch <-chan singleflight.Result) (*engine.Token, error) {
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*engine.Token), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// remember records an engine answer for p. used says a caller asked (not
// the refresh-ahead loop).
func (h *Handler) remember(p *config.Profile, t *engine.Token, err error, used bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entryLocked(p.Name)
	e.prof = p
	if used {
		e.lastUsed = h.now()
	}
	switch {
	case err == nil:
		e.tok, e.failures, e.lastErr, e.retryAt, e.noAhead = t, 0, "", time.Time{}, false
		if !used && t != nil {
			// Never two refreshes ahead within seconds, whatever lifetime
			// the server gives its tokens; but never later than the new
			// token's own refresh moment either (6 s tokens: a fixed 5 s
			// floor made every second refresh ahead late).
			e.retryAt = h.now().Add(min(5*time.Second, t.Expiry.Sub(t.Obtained)/10))
		}
	case engine.IsLoginRequired(err):
		e.tok, e.lastErr, e.noAhead = nil, err.Error(), true
	default:
		e.failures++
		e.lastErr = err.Error()
		e.retryAt = h.now().Add(backoff(e.failures))
	}
	h.signal()
}

// entryLocked returns the profile's entry, made if missing. Called with
// h.mu held.
func (h *Handler) entryLocked(name string) *entry {
	if h.mem == nil {
		h.mem = map[string]*entry{}
	}
	e := h.mem[name]
	if e == nil {
		e = &entry{}
		h.mem[name] = e
	}
	return e
}

// backoff is the wait before refresh-ahead attempt n+1 after n failures:
// 5s, 10s, 20s, ... at most 5 minutes.
func backoff(failures int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < failures && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// erase drops the cached access token of p, in memory and in the store,
// when rejected (a wire.Fingerprint) names it or is empty, and reports
// whether it named the stored token. The refresh token stays.
func (h *Handler) erase(ctx context.Context, p *config.Profile, rejected string) (bool, error) {
	h.mu.Lock()
	if e := h.mem[p.Name]; e != nil && e.tok != nil && (rejected == "" || named(e.tok, rejected) != "") {
		e.tok = nil
	}
	h.mu.Unlock()
	eng, err := h.engine()
	if err != nil {
		return false, err
	}
	raw := ""
	if rejected != "" {
		t, err := eng.Cached(p)
		if err != nil {
			return false, err
		}
		if raw = named(t, rejected); raw == "" {
			return false, nil // not the stored token: a newer one replaced it already
		}
	}
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout())
	defer cancel()
	return raw != "", eng.Invalidate(c, p, raw)
}

// named returns t's access or ID token whose fingerprint is fp, or "".
func named(t *engine.Token, fp string) string {
	if t == nil {
		return ""
	}
	for _, v := range []string{t.AccessToken, t.IDToken} {
		if v != "" && wire.Fingerprint(v) == fp {
			return v
		}
	}
	return ""
}

// forget drops the in-memory state of one profile, or of all ("").
func (h *Handler) forget(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if name == "" {
		h.mem = nil
		return
	}
	delete(h.mem, name)
}

// Status reports what the handler holds, by profile name (only those in
// only, when it is not nil).
func (h *Handler) Status(only map[string]bool) []wire.ProfileStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(h.mem))
	for n := range h.mem {
		if only == nil || only[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]wire.ProfileStatus, 0, len(names))
	now := h.now()
	for _, n := range names {
		e := h.mem[n]
		s := wire.ProfileStatus{Name: n, InMemory: e.tok != nil, LastUsed: e.lastUsed, LastError: e.lastErr}
		if e.tok != nil {
			s.Expiry = engine.Handout(e.tok, e.prof).Expiry
		}
		if at, ok := h.dueLocked(e, now); ok {
			s.NextRefresh = at
		}
		out = append(out, s)
	}
	return out
}
