package cargo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// FuzzCargoInput feeds any stdin to Main. It must not panic, must start
// with the hello, must answer every line with exactly one line of JSON
// that is {"Ok":...} or {"Err":{"kind":...}}, exit 0 or 1, and keep stderr
// quiet. Seeds: testdata/fuzz/FuzzCargoInput.
func FuzzCargoInput(f *testing.F) {
	env := testbin.NewEnv(f, f.TempDir())
	env.WriteConfig(f, unitProfiles) // no seeded tokens: every profile needs a login
	f.Add([]byte(req("get", "sparse+https://crates.example.com/index/", `,"operation":"read"`)))
	f.Add([]byte(req("login", "sparse+https://crates.example.com/", `,"token":"zz"`)))
	f.Add([]byte(req("logout", "https://other.example.com/", "")))
	f.Add([]byte(`{"v":1,"registry":{"index-url":"sparse+http://[::1"},"kind":"get"}` + "\n"))
	// One handler for every input: its engine (and the file keyring's
	// key derivation) opens once, so each input costs microseconds.
	var logs bytes.Buffer
	r := agent.InProcess(env.Getenv, &logs, false)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out, errb bytes.Buffer
		code := Main([]string{PluginFlag}, bytes.NewReader(in), &out, &errb, env.Getenv, r)
		if code != 0 && code != 1 {
			t.Fatalf("exit %d, want 0 or 1", code)
		}
		if errb.Len() > 0 {
			t.Fatalf("stderr: %q", errb.String())
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if lines[0] != strings.TrimSuffix(Hello, "\n") {
			t.Fatalf("first line %q, want the hello", lines[0])
		}
		for _, l := range lines[1:] {
			var a map[string]struct {
				Kind  string `json:"kind"`
				Token string `json:"token"`
			}
			if err := json.Unmarshal([]byte(l), &a); err != nil || len(a) != 1 {
				t.Fatalf("answer %q is not one JSON object with one key: %v", l, err)
			}
			if ok, isOK := a["Ok"]; isOK && ok.Token == "" {
				t.Fatalf("Ok answer %q without a token (no profile here has one)", l)
			}
			if e, isErr := a["Err"]; isErr && e.Kind == "" {
				t.Fatalf("Err answer %q without a kind", l)
			}
		}
	})
}
