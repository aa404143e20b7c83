package terraform

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// FuzzTerraformHost runs get with any hostname. It must not panic; a
// hostname HostURL accepts gets exit 0 with {} (no profile here has a
// token: the only profile needs a login) or exit 1 naming the login;
// one it refuses gets exit 2 and no stdout.
func FuzzTerraformHost(f *testing.F) {
	env := testbin.NewEnv(f, f.TempDir())
	env.WriteConfig(f, unitProfiles[strings.Index(unitProfiles, "[profiles.nologin]"):])
	for _, s := range []string{"tf.example.com", "login.example.com", "127.0.0.1:8443", "[::1]", "a/b", "x@y", ""} {
		f.Add(s)
	}
	// One handler for every input: its engine opens once.
	var logs bytes.Buffer
	r := agent.InProcess(env.Getenv, &logs, false)
	f.Fuzz(func(t *testing.T, host string) {
		var out, errb bytes.Buffer
		code := Main([]string{"get", host}, strings.NewReader(""), &out, &errb, env.Getenv, r)
		u, err := HostURL(host)
		switch {
		case err != nil:
			if code != 2 || out.Len() != 0 {
				t.Fatalf("host %q refused by HostURL: got exit %d stdout %q", host, code, out.String())
			}
		case code == 0:
			var m map[string]string
			if json.Unmarshal(out.Bytes(), &m) != nil || len(m) != 0 {
				t.Fatalf("host %q (%s): stdout %q, want {}", host, u, out.String())
			}
		case code == 1:
			if out.Len() != 0 || !strings.Contains(errb.String(), "run: lanyard login") {
				t.Fatalf("host %q (%s): exit 1 with stdout %q stderr %q", host, u, out.String(), errb.String())
			}
		default:
			t.Fatalf("host %q (%s): exit %d", host, u, code)
		}
	})
}
