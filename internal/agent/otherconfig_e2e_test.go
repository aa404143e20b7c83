package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// One agent per user, but not one profiles file: a caller whose
// LANYARD_CONFIG names another file gets answers from that file (in-process),
// never a token of a profile of the agent's file.
func TestCallerWithAnotherProfilesFile(t *testing.T) {
	bin := testbin.Build(t, "lanyard")
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	env := testbin.NewEnv(t, bin)
	if env.Getenv("LANYARD_AGENT") == "off" {
		t.Skip("LANYARD_AGENT=off: no agent")
	}
	env.Set(secretVar, op.ConfidentialClientSecret)
	env.WriteConfig(t, profiles(op, "a"))
	run := func(args ...string) (string, error) {
		out, err := env.Command("lanyard", args...).Output()
		return strings.TrimSpace(string(out)), err
	}
	first, err := run("token", "a") // starts the agent on the first file
	if err != nil || !op.Valid(first) {
		t.Fatalf("lanyard token a: %q, %v", first, err)
	}

	other := filepath.Join(env.Home, "other.toml")
	env.Set("LANYARD_CONFIG", other)
	if err := os.WriteFile(other, []byte(profiles(op, "b")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("token", "b"); err != nil || !op.Valid(out) {
		t.Errorf("lanyard token b from the other file: %q, %v; want a valid token", out, err)
	}
	if out, err := run("token", "a"); err == nil {
		t.Errorf("lanyard token a with a file that has no profile a: got %q, want a refusal", out)
	}
}
