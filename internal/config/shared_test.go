package config

import (
	"strings"
	"testing"
	"time"
)

const sharedProfile = `
[profiles.p]
grant = "refresh_token"
token_url = "https://auth.example.com/token"
client_id = "c"
shared = "team"
`

func TestParseShared(t *testing.T) {
	f, err := Parse("/c.toml", []byte(`
[shared.team]
sentinel_addrs = ["10.0.0.1:26379", "10.0.0.2:26379"]
sentinel_master = "tokens"
tls = true
username = "lanyard"
password = "env:REDIS_PW"
key = "keyring"
prefix = "ci:"
min_replicas = 1
on_unavailable = "fail"
lock_ttl = "5s"
`+sharedProfile))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Profiles["p"]
	s := p.SharedTier
	if s == nil || !s.TLS || s.Prefix != "ci:" || s.MinReplicas != 1 || s.OnUnavailable != "fail" || s.LockTTL != 5*time.Second || s.Line != 2 {
		t.Fatalf("got %+v", s)
	}
	if got, want := s.Addr(), `sentinel 10.0.0.1:26379,10.0.0.2:26379 master "tokens"`; got != want {
		t.Errorf("Addr: got %q, want %q", got, want)
	}

	f, err = Parse("/c.toml", []byte("[shared.team]\nurl = \"redis://127.0.0.1:6379/0\"\nkey = \"env:K\"\n"+sharedProfile))
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Shared["team"]; s.Prefix != DefaultSharedPrefix || s.OnUnavailable != SharedFallbackLocal || s.LockTTL != DefaultSharedLockTTL {
		t.Errorf("defaults: got %+v", s)
	}
	// Plain redis:// and Sentinel without TLS leave this machine only when
	// the table says so.
	for _, ok := range []string{
		"[shared.team]\nurl = \"redis://redis.example.com:6379/0\"\nallow_plaintext = true\nkey = \"env:K\"\n",
		"[shared.team]\nurl = \"redis://redis.example.com:6379/0\"\nca_file = \"/ca.pem\"\nkey = \"env:K\"\n",
		"[shared.team]\nurl = \"rediss://redis.example.com:6379/0\"\nkey = \"env:K\"\n",
		"[shared.team]\nurl = \"unix:///run/redis.sock\"\nkey = \"env:K\"\n",
		"[shared.team]\nsentinel_addrs = [\"127.0.0.1:26379\", \"[::1]:26380\"]\nsentinel_master = \"m\"\nkey = \"env:K\"\n",
	} {
		if _, err := Parse("/c.toml", []byte(ok+sharedProfile)); err != nil {
			t.Errorf("refused %q: %v", ok, err)
		}
	}
}

func TestParseSharedErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		wantLine   int
		want       []string
	}{
		{"unknown key", "[shared.team]\nurl = \"redis://h:6379\"\nkey = \"env:K\"\nttl = \"1s\"\n", 4, []string{"shared.team.ttl", "unknown key"}},
		{"no url", "[shared.team]\nkey = \"env:K\"\n", 1, []string{"shared.team.url", "missing"}},
		{"both", "[shared.team]\nurl = \"redis://h:6379\"\nsentinel_addrs = [\"h:26379\"]\nsentinel_master = \"m\"\nkey = \"env:K\"\n", 3, []string{"either url or sentinel_addrs"}},
		{"scheme", "[shared.team]\nurl = \"http://h:6379\"\nkey = \"env:K\"\n", 2, []string{"redis://, rediss:// or unix://"}},
		{"password in url", "[shared.team]\nurl = \"redis://u:secret@h:6379\"\nkey = \"env:K\"\n", 2, []string{"password in clear"}},
		{"no master", "[shared.team]\nsentinel_addrs = [\"h:26379\"]\nkey = \"env:K\"\n", 1, []string{"sentinel_master", "missing"}},
		{"bad sentinel addr", "[shared.team]\nsentinel_addrs = [\"h\"]\nsentinel_master = \"m\"\nkey = \"env:K\"\n", 2, []string{"not HOST:PORT"}},
		{"no key", "[shared.team]\nurl = \"redis://h:6379\"\n", 1, []string{"shared.team.key", "lanyard shared init team"}},
		{"key in clear", "[shared.team]\nurl = \"redis://h:6379\"\nkey = \"AAAA\"\n", 3, []string{"shared.team.key", "reference", "lanyard secret set shared.team key"}},
		{"relative ca", "[shared.team]\nurl = \"rediss://h:6379\"\nkey = \"env:K\"\nca_file = \"ca.pem\"\n", 4, []string{"absolute path"}},
		{"cert without key", "[shared.team]\nurl = \"rediss://h:6379\"\nkey = \"env:K\"\ntls_cert = \"/c.pem\"\n", 4, []string{"tls_cert and tls_key go together"}},
		{"prefix", "[shared.team]\nurl = \"redis://h:6379\"\nkey = \"env:K\"\nprefix = \"a b\"\n", 4, []string{"shared.team.prefix"}},
		{"replicas", "[shared.team]\nurl = \"redis://h:6379\"\nkey = \"env:K\"\nmin_replicas = -1\n", 4, []string{"min_replicas"}},
		{"on_unavailable", "[shared.team]\nurl = \"redis://h:6379\"\nkey = \"env:K\"\non_unavailable = \"retry\"\n", 4, []string{"\"retry\" is not valid"}},
		{"lock_ttl", "[shared.team]\nurl = \"redis://h:6379\"\nkey = \"env:K\"\nlock_ttl = \"10m\"\n", 4, []string{"lock_ttl", "\"1s\" to \"5m\""}},
		{"unknown tier", sharedProfile, 6, []string{"profiles.p.shared", "no [shared.team] table"}},
		{"plain redis off loopback", "[shared.team]\nurl = \"redis://redis.example.com:6379/0\"\nkey = \"env:K\"\n", 2, []string{"shared.team.url", "in clear", "rediss://", "allow_plaintext = true"}},
		{"sentinel without tls off loopback", "[shared.team]\nsentinel_addrs = [\"10.0.0.1:26379\"]\nsentinel_master = \"m\"\nkey = \"env:K\"\n", 2, []string{"shared.team.sentinel_addrs", "in clear", "tls = true", "allow_plaintext = true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/c.toml", []byte(tt.toml))
			if err == nil {
				t.Fatal("got nil error")
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if e.Line != tt.wantLine {
				t.Errorf("line: got %d, want %d (%v)", e.Line, tt.wantLine, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSharedKey(t *testing.T) {
	key := make([]byte, 32)
	key[0], key[31] = 0xfb, 0xff // '+' '/' vs '-' '_' in the encodings
	for _, v := range []string{
		"+wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=", "-wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=",
		"+wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8", " -wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8\n",
	} {
		got, ok := ParseSharedKey(v)
		if !ok || string(got) != string(key) {
			t.Errorf("ParseSharedKey(%q): got %x %v", v, got, ok)
		}
	}
	for _, v := range []string{"", "AAAA", "not base64 at all!!"} {
		if _, ok := ParseSharedKey(v); ok {
			t.Errorf("ParseSharedKey(%q) accepted", v)
		}
	}
}
