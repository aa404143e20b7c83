package agent

import (
	"context"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

func (h *Handler) recent() time.Duration {
	if h.Recent != 0 {
		return h.Recent
	}
	return time.Hour
}

// signal wakes the refresh-ahead loop (a token or a failure changed its
// schedule). Called with h.mu held.
func (h *Handler) signal() {
	if h.wake == nil {
		h.wake = make(chan struct{}, 1)
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// dueLocked says when the refresh ahead of e's token is due: at
// engine.RefreshAt, the expiry every caller was told, so no token handed
// out is killed (by servers that revoke the previous access token) before
// the moment announced with it; a caller that arrives while the refresh
// runs waits for it. Not at all for a profile unused for Recent, or one
// that needs a person to get a new token. Called with h.mu held.
func (h *Handler) dueLocked(e *entry, now time.Time) (time.Time, bool) {
	if h.Recent < 0 || e.tok == nil || e.prof == nil || e.noAhead || now.Sub(e.lastUsed) > h.recent() || !refreshable(e.prof, e.tok) {
		return time.Time{}, false
	}
	at := engine.RefreshAt(e.tok, e.prof)
	if e.retryAt.After(at) {
		at = e.retryAt
	}
	return at, true
}

// refreshable reports whether the agent can get p a new token without a
// person: a refresh token, client credentials or a plugin.
func refreshable(p *config.Profile, t *engine.Token) bool {
	return t.RefreshToken != "" || p.Grant == config.GrantClientCredentials || p.PluginName() != "" ||
		// The hot cache hands out tokens without their refresh token:
		// grants that usually have one are tried, and a login_required
		// answer stops the attempts.
		p.Grant == config.GrantRefreshToken || p.Grant == config.GrantAuthorizationCode || p.Grant == config.GrantDeviceCode || p.Grant == config.GrantPassword
}

// Pending reports whether a refresh ahead is still to come: the agent does
// not exit for idleness while one is.
func (h *Handler) Pending() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for _, e := range h.mem {
		if _, ok := h.dueLocked(e, now); ok {
			return true
		}
	}
	return false
}

// RefreshAhead runs until ctx ends, refreshing each recently used
// profile's token before callers would find it stale. Never interactive;
// failures back off and are kept for lanyard agent status.
func (h *Handler) RefreshAhead(ctx context.Context) {
	h.mu.Lock()
	h.signal() // make sure the channel exists
	wake := h.wake
	h.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := h.refreshDue(ctx)
		wait := time.Minute
		if !next.IsZero() {
			wait = min(max(time.Until(next), 10*time.Millisecond), time.Minute)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
	}
}

// refreshDue refreshes every profile whose refresh ahead is due and returns
// when the next one is.
func (h *Handler) refreshDue(ctx context.Context) time.Time {
	type job struct {
		p *config.Profile
	}
	var jobs []job
	var next time.Time
	h.mu.Lock()
	now := h.now()
	for _, e := range h.mem {
		at, ok := h.dueLocked(e, now)
		if !ok {
			continue
		}
		if !at.After(now) {
			jobs = append(jobs, job{e.prof})
			continue
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	h.mu.Unlock()
	for _, j := range jobs {
		if ctx.Err() != nil {
			return time.Time{}
		}
		h.refreshOne(ctx, j.p)
	}
	if len(jobs) > 0 {
		return time.Now() // recompute: the refreshed tokens have new due times
	}
	return next
}

func (h *Handler) refreshOne(ctx context.Context, p *config.Profile) {
	ch := h.flights.DoChan(p.Name+"\x00ahead", func() (any, error) {
		eng, err := h.engine()
		if err != nil {
			h.remember(p, nil, err, false)
			return nil, err
		}
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout())
		defer cancel()
		// ForceRefresh: the token is still fresh by the callers' rule; a
		// newer one another process saved meanwhile is taken as is.
		t, err := eng.Token(c, p, engine.Options{ForceRefresh: true})
		h.remember(p, t, err, false)
		return t, err
	})
	<-ch
}
