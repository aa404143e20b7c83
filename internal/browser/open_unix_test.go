//go:build unix

package browser

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lanyardhq/lanyard/internal/desktop"
)

// TestOpenerBROWSER runs $BROWSER (a script writing its argument to a FIFO,
// which the test reads: no polling) and checks it got the URL.
func TestOpenerBROWSER(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	script := filepath.Join(dir, "browser.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+fifo+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	const u = "https://auth.example/authorize?client_id=c&state=a&b"
	for _, spec := range []string{script, "/nonexistent/browser:" + script, script + " %s"} {
		open := Opener(func(k string) string {
			return map[string]string{"BROWSER": spec, "SSH_TTY": "/dev/pts/0"}[k] // $BROWSER wins over headless
		})
		if open == nil {
			t.Fatalf("BROWSER=%q: no opener", spec)
		}
		if err := open(u); err != nil {
			t.Fatalf("BROWSER=%q: %v", spec, err)
		}
		got, err := os.ReadFile(fifo)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != u {
			t.Fatalf("BROWSER=%q got %q, want %q", spec, got, u)
		}
	}
	open := Opener(func(k string) string { return map[string]string{"BROWSER": "/nonexistent/browser"}[k] })
	if err := open(u); err == nil || !strings.Contains(err.Error(), "$BROWSER") {
		t.Fatalf("missing browser: got %v", err)
	}
}

// TestOpenerChildEnvironment: the browser opener never inherits the
// keyring passphrase, and keeps the desktop session's variables.
func TestOpenerChildEnvironment(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	t.Setenv("LANYARD_KEYRING_PASSPHRASE", "pp")
	t.Setenv("DISPLAY", ":7")
	script := filepath.Join(dir, "browser.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv > "+fifo+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	open := Opener(func(k string) string { return map[string]string{"BROWSER": script}[k] })
	if err := open("https://auth.example/authorize"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "LANYARD_KEYRING_PASSPHRASE") || !strings.Contains(string(got), "DISPLAY=:7") {
		t.Errorf("the browser's environment:\n%s\nwant DISPLAY and no LANYARD_KEYRING_PASSPHRASE", got)
	}
}

// TestOpenerWSL runs the Windows openers a WSL session uses, as stub
// scripts on PATH that write their arguments to a FIFO, and checks each
// gets the URL in a form its Windows side parses back whole.
func TestOpenerWSL(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, name := range []string{"wslview", "powershell.exe", "cmd.exe"} {
		script := "#!/bin/sh\nprintf '%s|' \"$0\" \"$@\" > " + fifo + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	const u = "https://login.example/authorize?client_id=c&state=it's"
	tests := []struct {
		how  desktop.How
		want string
	}{
		{desktop.Wslview, dir + "/wslview|" + u + "|"},
		{desktop.PowerShell, dir + "/powershell.exe|-NoProfile|-NonInteractive|-Command|Start-Process 'https://login.example/authorize?client_id=c&state=it''s'|"},
		{desktop.Cmd, dir + "/cmd.exe|/c|start|https://login.example/authorize?client_id=c^&state=it's|"},
	}
	for _, tc := range tests {
		open := OpenerFor(desktop.Decide(desktop.Facts{GOOS: "linux", WSL: true, OnPath: map[string]bool{string(tc.how): true}}), "")
		if open == nil {
			t.Fatalf("%s: no opener", tc.how)
		}
		if err := open(u); err != nil {
			t.Fatalf("%s: %v", tc.how, err)
		}
		got, err := os.ReadFile(fifo)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.how, got, tc.want)
		}
	}
	if open := OpenerFor(desktop.Decide(desktop.Facts{GOOS: "linux", Container: true, Display: true}), ""); open != nil {
		t.Error("a container with DISPLAY got an opener, want none")
	}
}
