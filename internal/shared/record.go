package shared

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/store"
	"github.com/redis/go-redis/v9"
)

// Record is one profile's shared token state as read from Redis.
type Record struct {
	// Version counts writes; the fenced write compares it.
	Version int64
	// Token is nil for a tombstone (after logout or a rejected refresh token).
	Token *store.Token
	// By names who wrote it ("host pid N"; empty when Redis holds anything
	// else), At when.
	By string
	At time.Time
}

// Get reads and opens profile's record; nil when there is none.
func (t *Tier) Get(ctx context.Context, profile string) (*Record, error) {
	m, err := t.rdb.HGetAll(ctx, t.recKey(profile)).Result()
	if err != nil {
		return nil, t.explain(err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	ver, err := strconv.ParseInt(m["ver"], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("shared record of profile %s in %s is damaged (version %q); run: lanyard logout %s", profile, t.cfg.Table(), m["ver"], profile)
	}
	r := &Record{Version: ver}
	if validBy(m["by"]) {
		r.By = m["by"]
	}
	if ms, err := strconv.ParseInt(m["at"], 10, 64); err == nil {
		r.At = time.UnixMilli(ms)
	}
	// Every record is sealed, tombstones too: an empty data field is not
	// lanyard's (a Redis writer without the key could otherwise log the
	// team out at any version it likes).
	sealed := []byte(m["data"])
	plain, err := t.seal.open(sealed, ad(t.cfg.Prefix, profile, m["key"], ver))
	if err != nil {
		return nil, &DecryptError{Profile: profile, Table: t.cfg.Table()}
	}
	if err := t.marks.check(profile, ver, sealed); err != nil {
		var te *TamperError
		if errors.As(err, &te) {
			te.Table = t.cfg.Table()
		}
		return nil, err
	}
	if m["key"] == "" {
		if string(plain) != tombstone {
			return nil, &DecryptError{Profile: profile, Table: t.cfg.Table()}
		}
		return r, nil
	}
	var tok store.Token
	if err := json.Unmarshal(plain, &tok); err != nil {
		return nil, fmt.Errorf("shared record of profile %s in %s is damaged (%v); run: lanyard logout %s", profile, t.cfg.Table(), err, profile)
	}
	r.Token = &tok
	return r, nil
}

// fenceScript writes a record only while the caller still owns the lock
// and the record is still at the version the caller read: a holder whose
// lock expired during a slow refresh can never overwrite a newer record.
// An empty cache key (ARGV[4]) writes a tombstone.
var fenceScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local v = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')
if v ~= tonumber(ARGV[2]) then return -2 end
redis.call('HSET', KEYS[1], 'ver', ARGV[3], 'key', ARGV[4], 'data', ARGV[5], 'by', ARGV[6], 'at', ARGV[7])
return 1
`)

// renewScript extends the lock only for its owner.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// releaseScript deletes the lock only for its owner (compare and delete).
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// FenceError means the write was refused: this process lost the lock
// (Redis was unreachable for longer than lock_ttl) and another one may have
// written meanwhile.
type FenceError struct {
	Profile, Table string
	Reason         string
}

func (e *FenceError) Error() string {
	return fmt.Sprintf("shared record of profile %s in %s was not written: %s; the token this process received is dropped (the record in Redis stays the one source of truth)", e.Profile, e.Table, e.Reason)
}

// ReplicaError means WAIT did not confirm min_replicas copies in time.
type ReplicaError struct {
	Profile, Table string
	Got, Want      int64
}

func (e *ReplicaError) Error() string {
	return fmt.Sprintf("the new token state of profile %s reached %d of min_replicas = %d replicas of %s in time; it was not handed out (a failover now could lose it): check the replicas (INFO replication) or lower min_replicas", e.Profile, e.Got, e.Want, e.Table)
}

// lease is a held profile lock, renewed in the background until released.
type lease struct {
	t       *Tier
	key     string
	owner   string
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	lostErr error
}

// tryLock takes profile's lock if it is free.
func (t *Tier) tryLock(ctx context.Context, profile string) (*lease, error) {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	owner := fmt.Sprintf("%s %s %d %d", hex.EncodeToString(nonce[:]), t.host, t.pid, t.now().UnixMilli())
	ok, err := t.rdb.SetNX(ctx, t.lockKey(profile), owner, t.cfg.LockTTL).Result()
	if err != nil {
		return nil, t.explain(err)
	}
	if !ok {
		return nil, nil
	}
	l := &lease{t: t, key: t.lockKey(profile), owner: owner, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew()
	return l, nil
}

// renew extends the lock every third of its TTL, so a slow token endpoint
// never lets a second holder in (oauth2-proxy's never-renewed 2 s lock
// did, #1992).
func (l *lease) renew() {
	defer close(l.done)
	tick := time.NewTicker(l.t.cfg.LockTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.t.cfg.LockTTL/3)
			n, err := renewScript.Run(ctx, l.t.rdb, []string{l.key}, l.owner, l.t.cfg.LockTTL.Milliseconds()).Int64()
			cancel()
			if err == nil && n == 0 {
				l.mu.Lock()
				l.lostErr = errors.New("the lock expired while the refresh ran")
				l.mu.Unlock()
				return
			}
		}
	}
}

func (l *lease) release() {
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, l.t.rdb, []string{l.key}, l.owner).Err()
}

// write stores tok (nil: a tombstone) as version prev+1, fenced by the
// lease, then waits for min_replicas.
func (t *Tier) write(ctx context.Context, l *lease, profile string, prev int64, tok *store.Token) error {
	ver := prev + 1
	cacheKey, plain := "", []byte(tombstone)
	if tok != nil {
		var err error
		if plain, err = json.Marshal(tok); err != nil {
			return err
		}
		cacheKey = t.seal.keyTag(tok.Key)
	}
	data := t.seal.seal(plain, ad(t.cfg.Prefix, profile, cacheKey, ver))
	by := fmt.Sprintf("%s pid %d", t.host, t.pid)
	n, err := fenceScript.Run(ctx, t.rdb, []string{t.recKey(profile), l.key}, l.owner, prev, ver, cacheKey, data, by, t.now().UnixMilli()).Int64()
	if err != nil {
		return t.explain(err)
	}
	switch n {
	case -1:
		return &FenceError{Profile: profile, Table: t.cfg.Table(), Reason: "this process no longer holds the lock (it expired after lock_ttl = " + t.cfg.LockTTL.String() + ")"}
	case -2:
		return &FenceError{Profile: profile, Table: t.cfg.Table(), Reason: "another process wrote a newer version meanwhile"}
	}
	t.marks.raise(profile, ver, data)
	if want := int64(t.cfg.MinReplicas); want > 0 {
		got, err := t.rdb.Wait(ctx, int(want), t.ReplicaTimeout).Result()
		if err != nil {
			return t.explain(err)
		}
		if got < want {
			return &ReplicaError{Profile: profile, Table: t.cfg.Table(), Got: got, Want: want}
		}
	}
	return nil
}

// Refresh returns a fresh token for profile. The record is read first; when
// it is not fresh, the caller takes the profile lock, re-reads, and runs
// obtain, whose result is written (fenced) before it is returned. obtain
// gets the current token state (nil when there is none) and returns the
// next one; drop asks to replace the record with a tombstone (the server
// rejected its refresh token), whatever err says; a next returned with an
// error is written (a refused refresh token, marked) and err returned. While
// another process holds the lock the caller polls the record, never
// spending the refresh token itself, and takes over when the holder's lock
// expires.
func (t *Tier) Refresh(ctx context.Context, profile string, fresh func(*store.Token) bool, obtain func(cur *store.Token) (next *store.Token, drop bool, err error)) (*store.Token, error) {
	rec, err := t.Get(ctx, profile)
	if err != nil {
		return nil, err
	}
	if rec != nil && rec.Token != nil && fresh(rec.Token) {
		return rec.Token, nil
	}
	l, tok, err := t.acquire(ctx, profile, func() (*store.Token, error) {
		rec, err := t.Get(ctx, profile)
		if err != nil || rec == nil || rec.Token == nil || !fresh(rec.Token) {
			return nil, err
		}
		t.log.Debug("shared record refreshed by another machine", "profile", profile, "by", rec.By)
		return rec.Token, nil
	})
	if err != nil || tok != nil {
		return tok, err
	}
	return t.underLock(ctx, l, profile, fresh, obtain)
}

// acquire takes profile's lock, waiting (bounded by Wait, backing off from
// 5 to 100 ms) while another process holds it. While it waits, poll may
// end the wait with a token (nil, nil: keep waiting).
func (t *Tier) acquire(ctx context.Context, profile string, poll func() (*store.Token, error)) (*lease, *store.Token, error) {
	deadline := t.now().Add(t.Wait)
	backoff := 5 * time.Millisecond
	for {
		l, err := t.tryLock(ctx, profile)
		if err != nil || l != nil {
			return l, nil, err
		}
		if poll != nil {
			if tok, err := poll(); err != nil || tok != nil {
				return nil, tok, err
			}
		}
		if t.now().After(deadline) {
			holder, _ := t.rdb.Get(ctx, t.lockKey(profile)).Result()
			return nil, nil, fmt.Errorf("waited %s for profile %s, whose lock %s holds in %s; try again, or check that process", t.Wait, profile, describeHolder(holder), t.cfg.Table())
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil, ctx.Err()
		case <-timer.C:
		}
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

func (t *Tier) underLock(ctx context.Context, l *lease, profile string, fresh func(*store.Token) bool, obtain func(cur *store.Token) (next *store.Token, drop bool, err error)) (*store.Token, error) {
	defer l.release()
	rec, err := t.Get(ctx, profile)
	if err != nil {
		return nil, err
	}
	var cur *store.Token
	prev := int64(0)
	if rec != nil {
		cur, prev = rec.Token, rec.Version
	}
	if cur != nil && fresh(cur) {
		return cur, nil
	}
	next, drop, err := obtain(cur)
	if drop && cur != nil {
		if werr := t.write(ctx, l, profile, prev, nil); werr != nil {
			t.log.Debug("could not drop the rejected shared record", "profile", profile, "err", werr)
		}
	}
	if err != nil {
		// obtain may return the state to keep with its error (a refresh
		// token the server refused, marked so no machine sends it again).
		if next != nil && !drop {
			if werr := t.write(ctx, l, profile, prev, next); werr != nil {
				t.log.Debug("could not mark the refused shared record", "profile", profile, "err", werr)
			}
		}
		return nil, err
	}
	l.mu.Lock()
	lost := l.lostErr
	l.mu.Unlock()
	if lost != nil {
		return nil, &FenceError{Profile: profile, Table: t.cfg.Table(), Reason: lost.Error()}
	}
	if err := t.write(ctx, l, profile, prev, next); err != nil {
		return nil, err
	}
	return next, nil
}

// Put replaces profile's record with tok under the lock (login, push); nil
// writes a tombstone (logout). A record that does not open under the key is
// never overwritten: the key is probably wrong.
func (t *Tier) Put(ctx context.Context, profile string, tok *store.Token) error {
	l, _, err := t.acquire(ctx, profile, nil)
	if err != nil {
		return err
	}
	defer l.release()
	rec, err := t.Get(ctx, profile)
	if err != nil {
		return err
	}
	prev := int64(0)
	if rec != nil {
		prev = rec.Version
	}
	return t.write(ctx, l, profile, prev, tok)
}

// Retire replaces profile's record with a tombstone under the lock (logout)
// after revoke, when not nil, has revoked the record's tokens (nil when
// there is no token). A record that cannot be read or opened, or a failed
// revoke, leaves the record as it is and returns the error.
func (t *Tier) Retire(ctx context.Context, profile string, revoke func(cur *store.Token) error) error {
	l, _, err := t.acquire(ctx, profile, nil)
	if err != nil {
		return err
	}
	defer l.release()
	rec, err := t.Get(ctx, profile)
	if err != nil {
		return err
	}
	prev, cur := int64(0), (*store.Token)(nil)
	if rec != nil {
		prev, cur = rec.Version, rec.Token
	}
	if revoke != nil {
		if err := revoke(cur); err != nil {
			return err
		}
	}
	return t.write(ctx, l, profile, prev, nil)
}

// tombstone is the sealed content of a record after logout or a rejected
// refresh token (an empty cache key).
const tombstone = "lanyard-tombstone-v1"

// resetScript replaces the record whatever it holds, only for the lock's
// owner.
var resetScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ver', ARGV[2], 'key', '', 'data', ARGV[3], 'by', ARGV[4], 'at', ARGV[5])
return 1
`)

// Reset replaces profile's record, whatever it holds (one that does not
// open under the key, one older than this machine has seen), with a sealed
// tombstone under the lock, at a version above Redis's and this machine's
// mark. Only a login brings the profile back. It returns the new version.
func (t *Tier) Reset(ctx context.Context, profile string) (int64, error) {
	l, _, err := t.acquire(ctx, profile, nil)
	if err != nil {
		return 0, err
	}
	defer l.release()
	cur, err := t.rdb.HGet(ctx, t.recKey(profile), "ver").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, t.explain(err)
	}
	v, _ := strconv.ParseInt(cur, 10, 64)
	ver := max(v, t.marks.seen(profile)) + 1
	data := t.seal.seal([]byte(tombstone), ad(t.cfg.Prefix, profile, "", ver))
	by := fmt.Sprintf("%s pid %d", t.host, t.pid)
	n, err := resetScript.Run(ctx, t.rdb, []string{t.recKey(profile), l.key}, l.owner, ver, data, by, t.now().UnixMilli()).Int64()
	if err != nil {
		return 0, t.explain(err)
	}
	if n != 1 {
		return 0, &FenceError{Profile: profile, Table: t.cfg.Table(), Reason: "this process no longer holds the lock (it expired after lock_ttl = " + t.cfg.LockTTL.String() + ")"}
	}
	t.marks.reset(profile, ver, data)
	return ver, nil
}

// Holder describes a held lock.
type Holder struct {
	Host    string
	PID     int
	Since   time.Time
	Expires time.Duration
}

// Lock returns who holds profile's lock, or nil.
func (t *Tier) Lock(ctx context.Context, profile string) (*Holder, error) {
	v, err := t.rdb.Get(ctx, t.lockKey(profile)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, t.explain(err)
	}
	ttl, _ := t.rdb.PTTL(ctx, t.lockKey(profile)).Result()
	h := &Holder{Expires: ttl}
	if host, pid, since, ok := parseOwner(v); ok {
		h.Host, h.PID, h.Since = host, pid, since
	}
	return h, nil
}

// describeHolder names a lock's holder for the lock-wait error, only when
// the lock value has lanyard's format (it comes from Redis).
func describeHolder(v string) string {
	host, pid, _, ok := parseOwner(v)
	if !ok {
		return "another process"
	}
	return fmt.Sprintf("%s pid %d", host, pid)
}

// Ping checks that Redis answers.
func (t *Tier) Ping(ctx context.Context) error { return t.explain(t.rdb.Ping(ctx).Err()) }
