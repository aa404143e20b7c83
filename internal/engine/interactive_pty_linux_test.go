package engine

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// openPTY opens a pseudo-terminal pair: the test types on master, lanyard
// reads its "terminal" on the slave.
func openPTY(t *testing.T) (master, slave *os.File) { return testbin.OpenPTY(t) }

// TestPromptPasswordTTY: the password grant asks on the terminal, not on
// stdout or stdin, and logs in to the Shopware emulator with the answer.
func TestPromptPasswordTTY(t *testing.T) {
	master, slave := openPTY(t)
	old := openTTY
	openTTY = func() (*os.File, error) { return slave, nil }
	t.Cleanup(func() { openTTY = old })

	sw, err := testprovider.StartShopware()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sw.Close() })
	h := newILEnv(t, nil)
	p := ilProfile(t, "shop", fmt.Sprintf(`[profiles.shop]
grant = "password"
token_url = %q
client_id = "administration"
token_request = "json"
scope_param = "scopes"
scopes = ["write"]
username = %q
`, sw.TokenURL, sw.Username))
	done := h.login(t, p, LoginOptions{})
	// Wait for the prompt on the terminal, then type the password.
	br := bufio.NewReader(master)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "password for admin (profile shop): ") {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("terminal closed before the prompt; it showed %q: %v", seen.String(), err)
		}
		seen.WriteByte(b)
	}
	fmt.Fprintf(master, "%s\n", sw.Password)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !sw.Valid(r.tok.AccessToken) || r.tok.RefreshToken == "" {
		t.Fatalf("token %+v", r.tok)
	}
	if out := h.ui.String(); out != "" {
		t.Fatalf("the prompt went to UI (stderr) too: %q", out)
	}
}
