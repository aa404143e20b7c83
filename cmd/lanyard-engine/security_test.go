package main

// Security findings of issue 13, each reproduced with the built binary.

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// ccEnv is an environment with one client_credentials profile "p" at tokenURL.
func ccEnv(t *testing.T, tokenURL string) *testbin.Env {
	t.Helper()
	env := newEnv(t)
	env.Set("LANYARD_TEST_SECRET", "s")
	env.WriteConfig(t, fmt.Sprintf("[profiles.p]\ngrant = \"client_credentials\"\ntoken_url = %q\nclient_id = \"c\"\nclient_secret = \"env:LANYARD_TEST_SECRET\"\n", tokenURL))
	return env
}

// TestTokenValuesAreValidated: a token endpoint that puts a newline in
// access_token or token_type must not add a variable to --format env or a
// header to --format header; nothing is stored, so the next call asks again.
func TestTokenValuesAreValidated(t *testing.T) {
	tests := []struct {
		name, body, format, field string
	}{
		{"env injection", `{"access_token":"abc\nLD_PRELOAD=/tmp/evil.so","token_type":"Bearer","expires_in":3600}`, "env", "access_token"},
		{"header injection", `{"access_token":"abc","token_type":"Bearer\r\nX-Injected: 1","expires_in":3600}`, "header", "token_type"},
		{"terminal escape", `{"access_token":"abc\u001b]0;owned\u0007","expires_in":3600}`, "raw", "access_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			env := ccEnv(t, srv.URL+"/token")
			for range 2 {
				out, stderr, code := run(t, env, "", "token", "p", "--format", tt.format)
				if code == 0 || out != "" {
					t.Fatalf("got exit %d stdout %q, want a failure and no output", code, out)
				}
				if !strings.Contains(stderr, tt.field) || !strings.Contains(stderr, "not printable ASCII") {
					t.Errorf("stderr %q does not name %s as not printable", stderr, tt.field)
				}
				if strings.Contains(stderr, "LD_PRELOAD") || strings.Contains(stderr, "owned") || strings.Contains(stderr, "X-Injected") {
					t.Errorf("stderr %q repeats the server's value", stderr)
				}
			}
			if n := requests.Load(); n != 2 {
				t.Errorf("token requests: got %d, want 2 (nothing was stored)", n)
			}
		})
	}
}

// TestServePrintsKeyOnlyWhenNew: the first start makes the key and shows
// it; a restart reuses it and shows only where it is kept.
func TestServePrintsKeyOnlyWhenNew(t *testing.T) {
	env := newEnv(t)
	env.WriteConfig(t, "")
	keyFile := filepath.Join(env.Home, "serve.key")
	start := func() string {
		t.Helper()
		errPath := filepath.Join(t.TempDir(), "stderr")
		errFile, err := os.Create(errPath)
		if err != nil {
			t.Fatal(err)
		}
		defer errFile.Close()
		cmd := env.Command("lanyard", "serve", "--key-file", keyFile)
		cmd.Stderr = errFile // written directly: complete once stdout has its line
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			b, _ := os.ReadFile(errPath)
			t.Fatalf("lanyard serve printed no line: %v\n%s", err, b)
		}
		b, err := os.ReadFile(errPath)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	first := start()
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	k := strings.TrimSpace(string(key))
	if !strings.Contains(first, k) {
		t.Errorf("first start did not show the new key:\n%s", first)
	}
	if again := start(); strings.Contains(again, k) || !strings.Contains(again, keyFile) {
		t.Errorf("restart: stderr\n%s\nwant the key file named and the key not shown", again)
	}
}

// TestEngineNoCoreDumps: lanyard-engine (here running lanyard exec) has
// turned core dumps off, though it was started with a core limit.
func TestEngineNoCoreDumps(t *testing.T) {
	if _, err := os.Stat("/proc/self/limits"); err != nil {
		t.Skip("no /proc here")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"abc","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	env := ccEnv(t, srv.URL+"/token")
	// The child of lanyard exec reads its parent's (lanyard-engine's) limits.
	script := `ulimit -S -c 4096 2>/dev/null || exit 77; exec "$0" exec p -- sh -c 'grep "Max core file size" /proc/$PPID/limits'`
	cmd := env.Command("sh", "-c", script, filepath.Join(env.Bin, "lanyard"))
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 77 {
		t.Skip("cannot raise the core limit here (hard limit 0)")
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if f := strings.Fields(string(out)); len(f) < 5 || f[4] != "0" {
		t.Errorf("lanyard-engine's core limit: %q, want a soft limit of 0", out)
	}
}

// TestUntrustedProfilesFile: a relative LANYARD_CONFIG (read from the
// directory git runs helpers in, a cloned repository) and a profiles file
// others can write are refused before any cmd: reference runs.
func TestUntrustedProfilesFile(t *testing.T) {
	env := newEnv(t)
	repo := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	evil := fmt.Sprintf("[profiles.p]\ngrant = \"client_credentials\"\ntoken_url = \"https://127.0.0.1:1/token\"\nclient_id = \"c\"\nclient_secret = \"cmd:touch %s; echo x\"\n", marker)
	if err := os.WriteFile(filepath.Join(repo, "config.toml"), []byte(evil), 0o600); err != nil {
		t.Fatal(err)
	}
	// In-process: an agent started by the first call would keep its own
	// profiles path for the second (the agent checks the file the same way).
	env.Set("LANYARD_AGENT", "off")
	env.Set("LANYARD_CONFIG", "config.toml")
	cmd := env.Command("lanyard", "token", "p")
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "relative") {
		t.Errorf("relative LANYARD_CONFIG: %v\n%s", err, out)
	}

	env.Set("LANYARD_CONFIG", env.ConfigPath)
	env.WriteConfig(t, evil)
	if err := os.Chmod(env.ConfigPath, 0o664); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, env, "", "token", "p")
	if code == 0 || !strings.Contains(stderr, "chmod go-w "+env.ConfigPath) {
		t.Errorf("group-writable profiles file: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a cmd: reference of an untrusted profiles file ran")
	}
}
