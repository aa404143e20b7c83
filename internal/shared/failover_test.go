//go:build !windows

package shared_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testredis"
)

// holdFirstRefresh puts a proxy in front of the token endpoint that holds
// the next token request until its client goes away, without forwarding
// it: a token endpoint that hangs.
func holdFirstRefresh(t *testing.T, w *world) (hold func(), arrived <-chan struct{}) {
	t.Helper()
	target, _ := url.Parse(w.wl.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var armed atomic.Bool
	ch := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && armed.CompareAndSwap(true, false) {
			// The server notices a closed connection only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			ch <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.tokenURL = srv.URL + "/oauth/token"
	return func() { armed.Store(true) }, ch
}

// TestLockHolderKilled: the process group holding the team lock is killed
// while its token request hangs; the lock expires after lock_ttl and
// another machine refreshes, with no reuse and nothing lost.
func TestLockHolderKilled(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	hold, arrived := holdFirstRefresh(t, w)
	a, b := w.machine(), w.machine()
	w.login(a)
	minTTL := round(w.wl, 1)

	hold()
	cmd := a.Command("lanyard", "token", "whiplash", "--min-ttl", minTTL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		t.Fatalf("the refresh never reached the token endpoint: %s", errb.String())
	}
	admin := w.redis.Admin()
	defer admin.Close()
	ttl, err := admin.PTTL(context.Background(), "lanyard:lock:whiplash").Result()
	if err != nil || ttl <= 0 || ttl > 3*time.Second {
		t.Fatalf("lock while the holder refreshes: ttl %s, err %v; want a lock that expires within lock_ttl = 3s", ttl, err)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	tok := strings.TrimSpace(mustRun(t, b, "", "token", "whiplash", "--min-ttl", minTTL))
	sameValid(t, w.wl, []string{tok})
	counts(t, w.wl, 2, 0) // the login, then b's refresh; the held request never reached Whiplash
}

// TestSentinelFailover: primary + 2 replicas + Sentinel, min_replicas = 1
// (N+1 replicas, so the promoted one still has a replica to WAIT for).
// The primary is killed right after a rotation; after the failover the next
// refresh works, with no login and no reuse.
func TestSentinelFailover(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	replica := testredis.Start(t, testredis.Options{ReplicaOf: w.redis, ACL: []string{ACL}})
	replica.WaitReplicating(t)
	second := testredis.Start(t, testredis.Options{ReplicaOf: w.redis, ACL: []string{ACL}})
	second.WaitReplicating(t)
	sentinel := testredis.StartSentinel(t, w.redis, "tokens")
	w.url = ""
	w.tier = fmt.Sprintf("sentinel_addrs = [%q]\nsentinel_master = \"tokens\"\nmin_replicas = 1\nlock_ttl = \"3s\"", sentinel.Addr())
	a, b := w.machine(), w.machine()
	w.login(a)
	mustRun(t, a, "", "token", "whiplash", "--min-ttl", round(w.wl, 1)) // rotates
	counts(t, w.wl, 2, 0)

	old := w.redis.Port
	w.redis.Kill()
	got := sentinel.WaitMaster(t, "tokens", old, 60*time.Second)
	if got != replica.Port && got != second.Port {
		t.Fatalf("sentinel promoted port %d, want a replica's (%d or %d)", got, replica.Port, second.Port)
	}
	testredis.WaitConnectedReplicas(t, got, 1)
	tok := strings.TrimSpace(mustRun(t, b, "", "token", "whiplash", "--min-ttl", round(w.wl, 2)))
	sameValid(t, w.wl, []string{tok})
	counts(t, w.wl, 3, 0)
}

// TestTLSAndACL: a TLS-only Redis and an ACL user limited to the prefix's
// keys serve the tier; another prefix is refused with a message that
// points at the ACL.
func TestTLSAndACL(t *testing.T) {
	w := newWorld(t, testredis.Options{TLS: true})
	w.tier = fmt.Sprintf("ca_file = %q\nlock_ttl = \"3s\"", w.redis.CAFile)
	a, b := w.machine(), w.machine()
	w.login(a)
	tok := strings.TrimSpace(mustRun(t, b, "", "token", "whiplash", "--min-ttl", round(w.wl, 1)))
	sameValid(t, w.wl, []string{tok})
	counts(t, w.wl, 2, 0)
	w.noSecretsInRedis(t, tok)

	w.tier = fmt.Sprintf("ca_file = %q\nprefix = \"other:\"", w.redis.CAFile)
	w.writeConfig(b)
	_, stderr, code := run(t, b, "", "token", "whiplash", "--min-ttl", round(w.wl, 2))
	if code == 0 || !strings.Contains(stderr, "NOPERM") || !strings.Contains(stderr, "ACL line in docs/shared.md") {
		t.Fatalf("prefix outside the ACL: exit %d, stderr %q", code, stderr)
	}
	counts(t, w.wl, 2, 0)
}
