package shared_test

import (
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/testredis"
)

// TestRollbackRefused: a Redis writer without the key restores an earlier
// record (DUMP/RESTORE). A machine that has seen a newer version refuses
// it as tampering, names lanyard shared reset, and never spends the
// restored (rotated-away) refresh token; shared reset then clears the
// record under the lock and a login works again.
func TestRollbackRefused(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a, b := w.machine(), w.machine()
	w.login(a)
	admin := w.redis.Admin()
	ctx := t.Context()
	const key = "lanyard:rec:whiplash"
	old, err := admin.Dump(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, b, "", "token", "whiplash", "--min-ttl", round(w.wl, 1)) // version 2: the refresh token rotated
	mustRun(t, a, "", "shared", "status", "team")                       // a sees version 2
	if err := admin.RestoreReplace(ctx, key, 0, old).Err(); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, a, "", "token", "whiplash", "--min-ttl", round(w.wl, 2))
	if code == 0 || !strings.Contains(stderr, "older than version 2") || !strings.Contains(stderr, "lanyard shared reset whiplash") {
		t.Fatalf("rolled-back record: exit %d, %s; want a tampering error naming lanyard shared reset", code, stderr)
	}
	if n := w.wl.ReuseDetections(); n != 0 {
		t.Fatalf("the restored refresh token was spent (%d reuse detections)", n)
	}

	if _, stderr, code := run(t, a, "", "shared", "reset", "whiplash"); code == 0 || !strings.Contains(stderr, "--yes") {
		t.Fatalf("reset without a terminal or --yes: exit %d, %s", code, stderr)
	}
	mustRun(t, a, "", "shared", "reset", "whiplash", "--yes")
	w.login(a)
	tok := strings.TrimSpace(mustRun(t, b, "", "token", "whiplash", "--min-ttl", round(w.wl, 3)))
	sameValid(t, w.wl, []string{tok})
}

// TestTombstoneSealed: logout writes a sealed tombstone; an unsealed one
// (what a Redis writer without the key can write) is refused, not taken
// for a logout, and shared reset clears it.
func TestTombstoneSealed(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a := w.machine()
	w.login(a)
	mustRun(t, a, "", "logout", "whiplash")
	admin := w.redis.Admin()
	ctx := t.Context()
	const key = "lanyard:rec:whiplash"
	if data := admin.HGet(ctx, key, "data").Val(); data == "" {
		t.Fatal("the tombstone is not sealed")
	}
	if _, stderr, code := run(t, a, "", "token", "whiplash"); code != 3 {
		t.Fatalf("after logout: exit %d, %s; want 3", code, stderr)
	}
	if err := admin.HSet(ctx, key, "ver", "99", "key", "", "data", "").Err(); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, a, "", "token", "whiplash")
	if code == 0 || code == 3 || !strings.Contains(stderr, "lanyard shared reset whiplash") {
		t.Fatalf("forged tombstone: exit %d, %s; want a refusal naming lanyard shared reset", code, stderr)
	}
	mustRun(t, a, "", "shared", "reset", "whiplash", "--yes")
	w.login(a)
}

// TestCacheKeyKeyed: the cache key field in Redis is a keyed hash under
// the team key, not the profile's cache key (an unsalted hash of its
// settings, which anyone who guesses the settings can compute).
func TestCacheKeyKeyed(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a := w.machine()
	w.login(a)
	cfg, err := config.Load(a.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	stored := w.redis.Admin().HGet(t.Context(), "lanyard:rec:whiplash", "key").Val()
	if ck := cfg.Profiles["whiplash"].CacheKey(); stored == "" || stored == ck {
		t.Fatalf("Redis holds cache key field %q; want a keyed hash, not the profile's cache key %q", stored, ck)
	}
}
