package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// On_unavailable values of a [shared.NAME] table.
const (
	SharedFallbackLocal = "local"
	SharedFallbackFail  = "fail"
)

// DefaultSharedPrefix prefixes every Redis key and channel lanyard uses.
const DefaultSharedPrefix = "lanyard:"

// DefaultSharedLockTTL bounds how long a killed lock holder blocks the
// fleet: its lock expires at most this long after its last renewal.
const DefaultSharedLockTTL = 15 * time.Second

// SharedTier is a [shared.NAME] table: a Redis or Valkey server (or a
// Sentinel-managed group) that holds the sealed token state of the profiles
// that name it with shared = "NAME". Secret fields hold references.
type SharedTier struct {
	Name string
	File string
	Line int

	URL            string   // redis://, rediss:// or unix://; empty with Sentinel
	SentinelAddrs  []string // host:port of each Sentinel
	SentinelMaster string

	Username string
	Password string // reference
	Key      string // reference to the team key: 32 bytes, base64

	CAFile  string
	TLSCert string
	TLSKey  string
	// TLS asks for TLS with the system's roots where nothing else does
	// (Sentinel: no URL scheme says it); rediss://, ca_file and tls_cert
	// imply it.
	TLS bool
	// AllowPlaintext accepts redis:// or Sentinel without TLS to a host
	// other than loopback (a trusted network); without it lanyard refuses.
	AllowPlaintext bool

	Prefix        string
	MinReplicas   int
	OnUnavailable string // local | fail
	LockTTL       time.Duration

	SentinelUsername string
	SentinelPassword string // reference

	hiddenEnv []string // see HiddenEnv
}

// Addr names where the tier lives, for error messages: the URL without
// credentials, or the Sentinel addresses and master name.
func (s *SharedTier) Addr() string {
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		if err != nil {
			return s.URL
		}
		u.User = nil
		return u.String()
	}
	return fmt.Sprintf("sentinel %s master %q", strings.Join(s.SentinelAddrs, ","), s.SentinelMaster)
}

// Table returns "[shared.NAME]", how errors name the table.
func (s *SharedTier) Table() string { return "[shared." + s.Name + "]" }

// rawShared mirrors the TOML keys of a [shared.NAME] table.
type rawShared struct {
	URL              string   `toml:"url"`
	SentinelAddrs    []string `toml:"sentinel_addrs"`
	SentinelMaster   string   `toml:"sentinel_master"`
	Username         string   `toml:"username"`
	Password         string   `toml:"password"`
	Key              string   `toml:"key"`
	CAFile           string   `toml:"ca_file"`
	TLSCert          string   `toml:"tls_cert"`
	TLSKey           string   `toml:"tls_key"`
	Prefix           *string  `toml:"prefix"`
	MinReplicas      int      `toml:"min_replicas"`
	OnUnavailable    string   `toml:"on_unavailable"`
	LockTTL          string   `toml:"lock_ttl"`
	SentinelUsername string   `toml:"sentinel_username"`
	SentinelPassword string   `toml:"sentinel_password"`
	TLS              bool     `toml:"tls"`
	AllowPlaintext   bool     `toml:"allow_plaintext"`
}

// buildShared validates one [shared.NAME] table without any network call.
func buildShared(path, name string, r rawShared, lines lineIndex) (*SharedTier, error) {
	key := func(k string) toml.Key { return toml.Key{"shared", name, k} }
	fail := func(k, msg string) error {
		return &Error{File: path, Line: lines.find(key(k)), Key: key(k).String(), Msg: msg}
	}
	s := &SharedTier{
		Name: name, File: path, Line: lines.find(toml.Key{"shared", name}),
		URL: r.URL, SentinelAddrs: r.SentinelAddrs, SentinelMaster: r.SentinelMaster,
		Username: r.Username, Password: r.Password, Key: r.Key,
		CAFile: r.CAFile, TLSCert: r.TLSCert, TLSKey: r.TLSKey, TLS: r.TLS, AllowPlaintext: r.AllowPlaintext,
		Prefix: DefaultSharedPrefix, MinReplicas: r.MinReplicas, OnUnavailable: r.OnUnavailable,
		LockTTL: DefaultSharedLockTTL, SentinelUsername: r.SentinelUsername, SentinelPassword: r.SentinelPassword,
	}
	switch {
	case s.URL == "" && len(s.SentinelAddrs) == 0:
		return nil, fail("url", "missing; set url (redis://HOST:6379/0, rediss://... or unix:///PATH) or sentinel_addrs and sentinel_master")
	case s.URL != "" && len(s.SentinelAddrs) > 0:
		return nil, fail("sentinel_addrs", "set either url or sentinel_addrs, not both")
	case s.URL != "":
		u, err := url.Parse(s.URL)
		if err != nil {
			return nil, fail("url", fmt.Sprintf("%q is not a URL; use redis://HOST:6379/0, rediss://HOST:6379/0 or unix:///PATH", s.URL))
		}
		switch u.Scheme {
		case "redis", "rediss":
			if u.Host == "" {
				return nil, fail("url", fmt.Sprintf("%q has no host; use e.g. redis://127.0.0.1:6379/0", s.URL))
			}
		case "unix":
			if u.Path == "" {
				return nil, fail("url", fmt.Sprintf("%q has no socket path; use unix:///run/redis/redis.sock", s.URL))
			}
		default:
			return nil, fail("url", fmt.Sprintf("scheme %q is not supported; use redis://, rediss:// or unix://", u.Scheme))
		}
		if _, ok := u.User.Password(); ok {
			return nil, fail("url", "holds a password in clear; remove it from the URL and set password = \"keyring\" (then: lanyard secret set shared."+name+" password), \"env:NAME\", \"file:PATH\" or \"cmd:COMMAND\"")
		}
	default:
		if s.SentinelMaster == "" {
			return nil, fail("sentinel_master", "missing; sentinel_addrs needs the master name the Sentinels monitor (sentinel monitor NAME ...)")
		}
		for _, a := range s.SentinelAddrs {
			if h, p, ok := strings.Cut(a, ":"); !ok || h == "" || p == "" {
				return nil, fail("sentinel_addrs", fmt.Sprintf("%q is not HOST:PORT; use e.g. [\"10.0.0.1:26379\", \"10.0.0.2:26379\"]", a))
			}
		}
	}
	if s.URL != "" && (s.SentinelMaster != "" || s.SentinelUsername != "" || s.SentinelPassword != "") {
		return nil, fail("sentinel_master", "only applies with sentinel_addrs; remove it or replace url with sentinel_addrs")
	}
	if s.Key == "" {
		return nil, fail("key", "missing; set key to a reference to the team key (\"keyring\" after lanyard shared init "+name+", or \"env:NAME\", \"file:PATH\", \"cmd:COMMAND\")")
	}
	for _, ref := range []struct{ k, v string }{{"key", s.Key}, {"password", s.Password}, {"sentinel_password", s.SentinelPassword}} {
		if ref.v == "" {
			continue
		}
		if err := CheckSecretRef(ref.v); err != nil {
			return nil, fail(ref.k, strings.Replace(err.Error(), "PROFILE KEY", "shared."+name+" "+ref.k, 1))
		}
	}
	for _, f := range []struct{ k, v string }{{"ca_file", s.CAFile}, {"tls_cert", s.TLSCert}, {"tls_key", s.TLSKey}} {
		if f.v != "" && !filepath.IsAbs(f.v) && !strings.HasPrefix(f.v, "~/") {
			return nil, fail(f.k, fmt.Sprintf("%q is not an absolute path; write /PATH or ~/PATH", f.v))
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return nil, fail("tls_cert", "tls_cert and tls_key go together: set both (client certificate and its key) or neither")
	}
	if r.Prefix != nil {
		s.Prefix = *r.Prefix
		if s.Prefix == "" || strings.ContainsAny(s.Prefix, " \t\r\n*?[]{}") {
			return nil, fail("prefix", fmt.Sprintf("%q is not valid; use letters, digits and punctuation without spaces or glob characters, e.g. \"lanyard:\" or \"team-a:lanyard:\"", s.Prefix))
		}
	}
	if s.MinReplicas < 0 || s.MinReplicas > 16 {
		return nil, fail("min_replicas", fmt.Sprintf("%d is not valid; use 0 (no WAIT) up to 16", s.MinReplicas))
	}
	switch s.OnUnavailable {
	case "":
		s.OnUnavailable = SharedFallbackLocal
	case SharedFallbackLocal, SharedFallbackFail:
	default:
		return nil, fail("on_unavailable", fmt.Sprintf("%q is not valid; use local (client_credentials profiles fetch their own token when Redis is down) or fail", s.OnUnavailable))
	}
	if r.LockTTL != "" {
		d, err := time.ParseDuration(r.LockTTL)
		if err != nil || d < time.Second || d > 5*time.Minute {
			return nil, fail("lock_ttl", fmt.Sprintf("%q is not valid; use a duration from \"1s\" to \"5m\" (default \"15s\")", r.LockTTL))
		}
		s.LockTTL = d
	}
	if err := s.checkPlaintext(fail); err != nil {
		return nil, err
	}
	return s, nil
}

// UsesTLS reports whether connections to the tier use TLS.
func (s *SharedTier) UsesTLS() bool {
	return strings.HasPrefix(s.URL, "rediss://") || s.TLS || s.CAFile != "" || s.TLSCert != ""
}

// checkPlaintext refuses a tier reached without TLS on a host other than
// loopback, unless allow_plaintext says the network is trusted: the
// records are sealed, but the Redis password, lock owners and who writes
// when would cross the network in clear, and anyone on the path could
// rewrite what lanyard reads (as token endpoints over plain http are
// refused).
func (s *SharedTier) checkPlaintext(fail func(k, msg string) error) error {
	if s.UsesTLS() || s.AllowPlaintext || strings.HasPrefix(s.URL, "unix://") {
		return nil
	}
	if s.URL != "" {
		u, _ := url.Parse(s.URL)
		if u == nil || IsLoopback(u.Hostname()) {
			return nil
		}
		return fail("url", fmt.Sprintf("%q sends the Redis password and traffic in clear to a host other than this machine; use rediss:// (add ca_file when the server's certificate is not in the system roots), or set allow_plaintext = true in %s if the network is trusted", s.URL, s.Table()))
	}
	for _, a := range s.SentinelAddrs {
		h, _, _ := strings.Cut(a, ":")
		if i := strings.LastIndex(a, ":"); strings.HasPrefix(a, "[") && i > 0 {
			h = strings.Trim(a[:i], "[]")
		}
		if !IsLoopback(h) {
			return fail("sentinel_addrs", fmt.Sprintf("%q is reached in clear (Redis password and traffic) from this machine; set tls = true (with ca_file when the certificates are not in the system roots), or allow_plaintext = true in %s if the network is trusted", a, s.Table()))
		}
	}
	return nil
}

// ParseSharedKey decodes a team key: 32 bytes in base64, standard or
// URL-safe, padded or not (what lanyard shared init prints).
func ParseSharedKey(v string) ([]byte, bool) {
	v = strings.TrimSpace(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == 32 {
			return b, true
		}
	}
	return nil, false
}
