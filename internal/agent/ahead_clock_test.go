package agent

import (
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// TestRefreshAheadScheduleWithShortTokens runs the refresh-ahead schedule
// on a clock the test controls: 6-second tokens, a token endpoint that takes
// 300 ms, refreshes ahead back to back over ten lifetimes. Each refresh
// ahead must start no later than the moment callers were told the current
// token expires (engine.RefreshAt), so no caller holds a token announced
// past its refresh, and none finds the memory stale for longer than one
// refresh. Before the fix a fixed 5 s floor after each refresh ahead made
// every second one start 0.1-0.4 s late.
func TestRefreshAheadScheduleWithShortTokens(t *testing.T) {
	for _, life := range []time.Duration{4 * time.Second, 6 * time.Second, time.Hour} {
		t.Run(life.String(), func(t *testing.T) { checkSchedule(t, life) })
	}
}

func checkSchedule(t *testing.T, life time.Duration) {
	p := &config.Profile{Name: "p", Grant: config.GrantRefreshToken, RefreshBefore: 60 * time.Second}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	h := &Handler{Now: func() time.Time { return now }, Recent: time.Hour}
	const took = 300 * time.Millisecond
	mint := func() *engine.Token {
		return &engine.Token{Key: p.CacheKey(), AccessToken: "at", RefreshToken: "rt", Obtained: now, Expiry: now.Add(life)}
	}
	h.remember(p, mint(), nil, true) // the login's token, handed to a caller
	for i := 0; i < 10; i++ {
		h.mu.Lock()
		e := h.mem[p.Name]
		announced := engine.Handout(e.tok, p).Expiry
		due, ok := h.dueLocked(e, now)
		h.mu.Unlock()
		if !ok {
			t.Fatalf("lifetime %d: no refresh ahead scheduled", i)
		}
		if !due.Equal(announced) {
			// Later: callers find the memory stale and pay the refresh.
			// Earlier: the refresh may kill a token before the expiry
			// its caller was told (Hydra revokes the previous one).
			t.Fatalf("lifetime %d: refresh ahead due in %s, announced expiry in %s; want the same moment", i, due.Sub(now), announced.Sub(now))
		}
		if announced.After(e.tok.Expiry) {
			t.Fatalf("lifetime %d: announced expiry %s after the server's %s", i, announced, e.tok.Expiry)
		}
		now = due.Add(took) // the refresh ahead runs and completes
		h.remember(p, mint(), nil, false)
		h.lastUsedNow(p.Name, now)
	}
}

// lastUsedNow marks the profile used at now, as a caller's hit does.
func (h *Handler) lastUsedNow(name string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mem[name].lastUsed = now
}
