package shared_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testredis"
)

// hostile is what a Redis writer without the key may put in the fields
// lanyard shows: escape sequences that retitle the terminal or clear it.
const hostile = "evil\x1b]0;pwned\x07\x1b[2J\u202e"

// TestStatusFiltersRedisText: lanyard shared status shows the lock holder
// and the record's "by" field only when they have lanyard's format, and
// never a control character from Redis (TestDescribeHolder covers the
// lock-wait error).
func TestStatusFiltersRedisText(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a := w.machine()
	w.login(a)
	admin := w.redis.Admin()
	ctx := t.Context()
	if err := admin.HSet(ctx, "lanyard:rec:whiplash", "by", hostile+" pid 1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Set(ctx, "lanyard:lock:whiplash", "00ff "+hostile+" 42 1700000000000", 30*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, a, "", "shared", "status", "team")
	if code != 0 {
		t.Fatalf("shared status: exit %d, %s", code, stderr)
	}
	for _, s := range []string{out, stderr} {
		if strings.ContainsAny(s, "\x1b\x07\u202e") || strings.Contains(s, "evil") {
			t.Errorf("shared status shows Redis text unfiltered:\n%q", s)
		}
	}
}
