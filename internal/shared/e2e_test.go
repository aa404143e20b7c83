package shared_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
	"github.com/lanyardhq/lanyard/internal/testredis"
)

// world is a team: the Whiplash emulator (refresh tokens rotate on every
// use; reuse revokes the grant), one Redis, a team key, and machines, each
// with its own HOME, state and encrypted keyring.
type world struct {
	t     *testing.T
	bin   string
	wl    *testprovider.Whiplash
	redis *testredis.Server
	key   string
	// tier is the body of [shared.team] after url and key.
	tier string
	url  string
	// tokenURL is where the profile sends token requests (a proxy in some tests).
	tokenURL string
	machines int
	// local leaves shared = "team" out of the profile.
	local bool
}

// ACL is the line docs/shared.md gives for lanyard's Redis user: its own
// keys, the commands it runs, nothing else.
const ACL = "user lanyard on >" + redisPassword + " resetkeys ~lanyard:* resetchannels -@all +@connection +get +set +pttl +hgetall +hget +hset +pexpire +del +eval +evalsha +wait"

const redisPassword = "lanyard-redis-password"

func newWorld(t *testing.T, opt testredis.Options) *world {
	t.Helper()
	w := &world{t: t, bin: testbin.Build(t, "lanyard", "git-credential-lanyard")}
	opt.ACL = append(opt.ACL, ACL)
	w.redis = testredis.Start(t, opt)
	w.url = w.redis.URL()
	wl, err := testprovider.StartWhiplash()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wl.Close() })
	w.wl, w.tokenURL = wl, wl.TokenURL
	var k [32]byte
	_, _ = rand.Read(k[:])
	w.key = base64.StdEncoding.EncodeToString(k[:])
	w.tier = `lock_ttl = "3s"`
	return w
}

// machine returns a fresh machine of the team; every other one runs
// without the per-user agent.
func (w *world) machine() *testbin.Env {
	w.t.Helper()
	env := testbin.NewEnv(w.t, w.bin)
	env.Set("WL_SECRET", w.wl.ClientSecret)
	env.Set("TEAM_KEY", w.key)
	env.Set("REDIS_PW", redisPassword)
	if w.machines++; w.machines%2 == 0 {
		env.Set("LANYARD_AGENT", "off")
	}
	w.writeConfig(env)
	return env
}

func (w *world) writeConfig(env *testbin.Env) {
	w.t.Helper()
	where := ""
	if w.url != "" {
		where = fmt.Sprintf("url = %q", w.url)
	}
	sharedKey := `shared = "team"`
	if w.local {
		sharedKey = ""
	}
	env.WriteConfig(w.t, fmt.Sprintf(`
[shared.team]
%s
key = "env:TEAM_KEY"
username = "lanyard"
password = "env:REDIS_PW"
%s

[profiles.whiplash]
auth_url = %q
token_url = %q
revocation_url = %q
grant = "authorization_code"
client_id = %q
client_secret = "env:WL_SECRET"
client_auth = "post"
redirect_uri = %q
scopes = ["user_manage"]
match = ["https://whiplash.test/"]
%s
`, where, w.tier, w.wl.AuthURL, w.tokenURL, w.wl.RevocationURL, w.wl.ClientID, w.wl.CallbackURL, sharedKey))
}

// run runs lanyard with args on env and returns stdout, stderr, exit code.
func run(t *testing.T, env *testbin.Env, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return env.Run(t, stdin, "lanyard", args...)
}

func mustRun(t *testing.T, env *testbin.Env, stdin string, args ...string) string {
	t.Helper()
	out, errb, code := run(t, env, stdin, args...)
	if code != 0 {
		t.Fatalf("lanyard %s: exit %d\n%s", strings.Join(args, " "), code, errb)
	}
	return out
}

// login imports a Whiplash refresh token on env: it lands in the tier.
func (w *world) login(env *testbin.Env) {
	w.t.Helper()
	round(w.wl, 0)
	mustRun(w.t, env, w.wl.IssueRefreshToken()+"\n", "login", "whiplash", "--refresh-token-stdin")
}

// round sets the lifetime of the next access token and returns the
// --min-ttl that makes every token minted before stale and the next one
// fresh: a deterministic "the token expired" without waiting for a clock.
func round(wl *testprovider.Whiplash, i int) string {
	life := time.Hour + time.Duration(i)*2*time.Minute
	wl.SetAccessTTL(life)
	return (life - time.Minute).String()
}

// fleet runs perMachine `lanyard token` processes on every machine at once
// and returns the tokens they printed.
func fleet(t *testing.T, machines []*testbin.Env, perMachine int, minTTL string) []string {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var tokens []string
	var errs []string
	for _, m := range machines {
		for range perMachine {
			cmd := m.Command("lanyard", "token", "whiplash", "--min-ttl", minTTL)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := cmd.Wait()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Sprintf("%v: %s", err, errb.String()))
					return
				}
				tokens = append(tokens, strings.TrimSpace(out.String()))
			}()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d processes failed; first: %s", len(errs), len(machines)*perMachine, errs[0])
	}
	return tokens
}

func sameValid(t *testing.T, wl *testprovider.Whiplash, tokens []string) string {
	t.Helper()
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("processes got different tokens: %q and %q", tokens[0], tok)
		}
	}
	if !wl.Valid(tokens[0]) {
		t.Fatalf("the fleet's token is not valid at the server")
	}
	return tokens[0]
}

func counts(t *testing.T, wl *testprovider.Whiplash, wantReq int64, wantReuse int64) {
	t.Helper()
	if got := wl.TokenRequests(); got != wantReq {
		t.Errorf("token requests: got %d, want %d", got, wantReq)
	}
	if got := wl.ReuseDetections(); got != wantReuse {
		t.Errorf("refresh token reuse: got %d, want %d", got, wantReuse)
	}
}

// noSecretsInRedis scans every key and value for anything a token or
// secret looks like in clear.
func (w *world) noSecretsInRedis(t *testing.T, seen ...string) {
	t.Helper()
	dump := w.redis.Dump(t)
	if len(dump) == 0 {
		t.Fatal("redis holds nothing")
	}
	needles := append([]string{"whiplash_", w.wl.ClientSecret, w.key, "refresh_token", "access_token"}, seen...)
	for k, v := range dump {
		for _, n := range needles {
			if n != "" && (strings.Contains(v, n) || strings.Contains(k, n)) {
				t.Errorf("redis key %q holds %q in clear", k, n)
			}
		}
	}
}

// TestFleet: 8 machines x 16 processes on an expired token cause exactly
// one token request and no reuse, and all get the same valid token; ten
// expiries in a row cause ten requests. Nothing in Redis is in clear.
func TestFleet(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	machines := make([]*testbin.Env, 8)
	for i := range machines {
		machines[i] = w.machine()
	}
	w.login(machines[0])
	counts(t, w.wl, 1, 0)

	tok := sameValid(t, w.wl, fleet(t, machines, 16, round(w.wl, 1)))
	counts(t, w.wl, 2, 0)

	for i := 2; i < 12; i++ {
		next := sameValid(t, w.wl, fleet(t, machines, 4, round(w.wl, i)))
		if next == tok {
			t.Fatalf("round %d: the token did not change", i)
		}
		tok = next
	}
	counts(t, w.wl, 12, 0)

	// A helper binary (no go-redis inside) hands the slow path to lanyard-engine.
	w.wl.SetAccessTTL(2 * time.Hour)
	fresh := w.machine()
	cmd := fresh.Command("git-credential-lanyard", "get")
	cmd.Stdin = strings.NewReader("protocol=https\nhost=whiplash.test\n\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git-credential-lanyard get: %v", err)
	}
	if !strings.Contains(string(out), "password="+tok+"\n") {
		t.Fatalf("git helper on a new machine: got %q, want the team's token", out)
	}
	counts(t, w.wl, 12, 0)
	w.noSecretsInRedis(t, tok)
}

// TestRedisDown: a refresh-token profile fails clearly when Redis is down,
// spends nothing and leaves local state alone; when Redis is back it works
// without a login.
func TestRedisDown(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	m := w.machine()
	w.login(m)
	before := keyringFiles(t, m)
	w.redis.Kill()
	_, stderr, code := run(t, m, "", "token", "whiplash", "--min-ttl", round(w.wl, 1))
	if code == 0 || !strings.Contains(stderr, "[shared.team]") || !strings.Contains(stderr, w.redis.Addr()) || !strings.Contains(stderr, "nothing was spent") {
		t.Fatalf("redis down: exit %d, stderr %q; want an error naming [shared.team] and %s", code, stderr, w.redis.Addr())
	}
	counts(t, w.wl, 1, 0)
	if after := keyringFiles(t, m); after != before {
		t.Fatal("local keyring changed while Redis was down")
	}
	w.redis.Restart()
	sameValid(t, w.wl, []string{strings.TrimSpace(mustRun(t, m, "", "token", "whiplash", "--min-ttl", round(w.wl, 2)))})
	counts(t, w.wl, 2, 0)
}

// TestRedisKilledAfterRotation: Redis SIGKILLed right after a rotation and
// restarted from its append-only file loses nothing.
func TestRedisKilledAfterRotation(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a, b := w.machine(), w.machine()
	w.login(a)
	mustRun(t, a, "", "token", "whiplash", "--min-ttl", round(w.wl, 1)) // rotates
	w.redis.Kill()
	w.redis.Restart()
	sameValid(t, w.wl, []string{strings.TrimSpace(mustRun(t, b, "", "token", "whiplash", "--min-ttl", round(w.wl, 2)))})
	counts(t, w.wl, 3, 0)
}

// TestWrongKey: a machine with another key gets the message that names the
// key setting, and the record stays as it was.
func TestWrongKey(t *testing.T) {
	w := newWorld(t, testredis.Options{})
	a, b := w.machine(), w.machine()
	w.login(a)
	dump := w.redis.Dump(t)
	b.Set("TEAM_KEY", base64.URLEncoding.EncodeToString(make([]byte, 32)))
	_, stderr, code := run(t, b, "", "token", "whiplash")
	if code == 0 || !strings.Contains(stderr, "cannot decrypt the shared record of profile whiplash; check key in [shared.team]") {
		t.Fatalf("wrong key: exit %d, stderr %q", code, stderr)
	}
	if after := w.redis.Dump(t); after["lanyard:rec:whiplash"] != dump["lanyard:rec:whiplash"] {
		t.Fatalf("the record changed after a wrong-key read:\n%q\n%q", dump, after)
	}
	counts(t, w.wl, 1, 0)
}

// keyringFiles fingerprints a machine's keyring directory.
func keyringFiles(t *testing.T, env *testbin.Env) string {
	t.Helper()
	dir := env.Home + "/.local/share/lanyard/keyring"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, _ := os.ReadFile(dir + "/" + e.Name())
		b.WriteString(e.Name())
		b.Write(data)
	}
	return b.String()
}

var _ = json.Marshal
