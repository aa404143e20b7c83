// Package shared is lanyard's team tier: the token state of profiles with
// shared = "NAME" lives in Redis (or Valkey), sealed with AES-256-GCM under
// a team key, so that a team or a CI fleet spends each rotating refresh
// token exactly once.
//
// Coordination per profile: a lock key with an owner token (SET NX PX),
// renewed while a refresh runs and released with a compare-and-delete
// script; a re-read under the lock; a fenced write (a Lua script compares
// the lock owner and the record's version) so a holder whose lock expired
// never overwrites a newer record; WAIT for min_replicas before anyone gets
// the new token. Callers that find the lock taken poll the record (bounded
// backoff) and never spend the refresh token themselves.
//
// Only lanyard-engine links this package (and go-redis): the helper
// binaries hand shared profiles' slow path to it.
package shared

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Tier is an open connection to one [shared.NAME] table's Redis.
type Tier struct {
	cfg  *config.SharedTier
	rdb  *redis.Client
	seal *sealer
	host string
	pid  int
	now  func() time.Time
	log  *slog.Logger
	// marks are the versions this machine has seen (rollback refusal).
	marks *marks
	// Wait bounds how long a caller waits for another machine's refresh
	// (default 60 s, like the local lock).
	Wait time.Duration
	// ReplicaTimeout bounds WAIT for min_replicas (default 5 s).
	ReplicaTimeout time.Duration
}

// Options carry what Open needs besides the table.
type Options struct {
	Secrets config.SecretSource
	Log     *slog.Logger
	Now     func() time.Time
	// Getenv expands ~ in file paths (HOME).
	Getenv func(string) string
	// StateDir keeps the high-water marks of the records this machine has
	// seen ($XDG_STATE_HOME/lanyard); empty keeps them in memory only.
	StateDir string
}

// redisLog sends go-redis's own log lines (Sentinel discovery, reconnects)
// to the --debug log instead of stderr, where helpers' callers read errors.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.Debug("go-redis: " + fmt.Sprintf(format, v...))
}

var setLogger sync.Once

// Open resolves the table's secrets and builds a client. It does not dial:
// the first command does.
func Open(ctx context.Context, cfg *config.SharedTier, opt Options) (*Tier, error) {
	owner := "shared." + cfg.Name
	keyText, err := opt.Secrets.Resolve(ctx, owner, "key", cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Table(), err)
	}
	key, ok := config.ParseSharedKey(keyText)
	if !ok {
		return nil, &config.Error{File: cfg.File, Line: cfg.Line, Key: "shared." + cfg.Name + ".key",
			Msg: fmt.Sprintf("the value of %q is not a team key (32 bytes in base64, standard or URL-safe); copy it again from the output of lanyard shared init %s", cfg.Key, cfg.Name)}
	}
	s, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	password := ""
	if cfg.Password != "" {
		if password, err = opt.Secrets.Resolve(ctx, owner, "password", cfg.Password); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Table(), err)
		}
	}
	sentinelPassword := ""
	if cfg.SentinelPassword != "" {
		if sentinelPassword, err = opt.Secrets.Resolve(ctx, owner, "sentinel_password", cfg.SentinelPassword); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Table(), err)
		}
	}
	tlsConf, err := tlsConfig(cfg, opt.Getenv)
	if err != nil {
		return nil, err
	}
	var rdb *redis.Client
	if cfg.URL != "" {
		o, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, &config.Error{File: cfg.File, Line: cfg.Line, Key: "shared." + cfg.Name + ".url", Msg: err.Error()}
		}
		if cfg.Username != "" {
			o.Username = cfg.Username
		}
		if password != "" {
			o.Password = password
		}
		if tlsConf != nil {
			if o.TLSConfig != nil {
				tlsConf.ServerName = o.TLSConfig.ServerName
			}
			o.TLSConfig = tlsConf
		}
		tune(o)
		rdb = redis.NewClient(o)
	} else {
		o := &redis.FailoverOptions{
			MasterName: cfg.SentinelMaster, SentinelAddrs: cfg.SentinelAddrs,
			SentinelUsername: cfg.SentinelUsername, SentinelPassword: sentinelPassword,
			Username: cfg.Username, Password: password, TLSConfig: tlsConf,
			DialTimeout: 2 * time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
			MaxRetries: 2, PoolSize: 2, Protocol: 2, DisableIdentity: true,
		}
		rdb = redis.NewFailoverClient(o)
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	setLogger.Do(func() { redis.SetLogger(redisLog{log}) })
	host, _ := os.Hostname()
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	return &Tier{cfg: cfg, rdb: rdb, seal: s, host: ownerHost(host), pid: os.Getpid(), now: now, log: log,
		marks: newMarks(opt.StateDir, cfg.Table(), cfg.Addr(), cfg.Prefix),
		Wait:  60 * time.Second, ReplicaTimeout: 5 * time.Second}, nil
}

// tune sets what every lanyard connection wants: fail fast when Redis is
// down (a helper must not hang for go-redis's default dial retries), RESP2
// and no CLIENT SETINFO or maintenance notifications, so an ACL user
// limited to the few commands lanyard runs suffices.
func tune(o *redis.Options) {
	o.DialTimeout = 2 * time.Second
	o.ReadTimeout = 3 * time.Second
	o.WriteTimeout = 3 * time.Second
	o.MaxRetries = 1
	o.DialerRetries = 1
	o.PoolSize = 2
	o.Protocol = 2
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

func tlsConfig(cfg *config.SharedTier, getenv func(string) string) (*tls.Config, error) {
	if !cfg.UsesTLS() {
		return nil, nil
	}
	expand := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "~/"); ok && getenv != nil {
			return filepath.Join(getenv("HOME"), rest)
		}
		return p
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	fail := func(k string, err error) error {
		return &config.Error{File: cfg.File, Line: cfg.Line, Key: "shared." + cfg.Name + "." + k, Msg: err.Error()}
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(expand(cfg.CAFile))
		if err != nil {
			return nil, fail("ca_file", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fail("ca_file", fmt.Errorf("%s holds no PEM certificate", cfg.CAFile))
		}
		c.RootCAs = pool
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(expand(cfg.TLSCert), expand(cfg.TLSKey))
		if err != nil {
			return nil, fail("tls_cert", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Close closes the connections.
func (t *Tier) Close() error { return t.rdb.Close() }

// Table names the tier for messages: "[shared.NAME]".
func (t *Tier) Table() string { return t.cfg.Table() }

func (t *Tier) recKey(profile string) string  { return t.cfg.Prefix + "rec:" + profile }
func (t *Tier) lockKey(profile string) string { return t.cfg.Prefix + "lock:" + profile }

// UnavailableError means Redis could not be reached: nothing was read,
// spent or written.
type UnavailableError struct {
	Table, Addr string
	File        string
	Line        int
	Err         error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("shared tier %s at %s is unreachable (%v); nothing was spent and local state is untouched: start Redis or fix url / sentinel_addrs in %s:%d", e.Table, e.Addr, e.Err, e.File, e.Line)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable marks the error for the engine, which must not import this
// package (it would link go-redis into every helper).
func (e *UnavailableError) Unavailable() bool { return true }

// DecryptError means a record exists but does not open under the key: a
// wrong key, or a record that was tampered with. The record is left alone.
type DecryptError struct {
	Profile, Table string
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("cannot decrypt the shared record of profile %s; check key in %s (the record was left untouched); if the key is right, the record was written without it: run lanyard shared reset %s, then lanyard login %s", e.Profile, e.Table, e.Profile, e.Profile)
}

// explain turns a go-redis error into one that says what to change.
func (t *Tier) explain(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		switch {
		case strings.HasPrefix(msg, "NOAUTH"), strings.HasPrefix(msg, "WRONGPASS"):
			return fmt.Errorf("shared tier %s at %s refused the login (%s); check username and password in %s:%d", t.cfg.Table(), t.cfg.Addr(), msg, t.cfg.File, t.cfg.Line)
		case strings.HasPrefix(msg, "NOPERM"):
			return fmt.Errorf("shared tier %s at %s: the Redis user lacks a permission (%s); give it the ACL line in docs/shared.md for prefix %q", t.cfg.Table(), t.cfg.Addr(), msg, t.cfg.Prefix)
		case strings.HasPrefix(msg, "READONLY"), strings.HasPrefix(msg, "LOADING"), strings.HasPrefix(msg, "MASTERDOWN"), strings.HasPrefix(msg, "TRYAGAIN"):
			return t.unavailable(err)
		}
		return fmt.Errorf("shared tier %s at %s: %w", t.cfg.Table(), t.cfg.Addr(), err)
	}
	return t.unavailable(err)
}

func (t *Tier) unavailable(err error) error {
	return &UnavailableError{Table: t.cfg.Table(), Addr: t.cfg.Addr(), File: t.cfg.File, Line: t.cfg.Line, Err: err}
}
