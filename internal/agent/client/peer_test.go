package client_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent/client"
	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// A socket at the default path that passes every file check (ours, 0600,
// in our 0700 directory) but that a process of another uid serves is
// refused: the helper checks the serving peer, not only the file. Neither
// Ask nor Resolve talks to it, and Resolve does not fall back to answering
// some other way.
func TestDefaultSocketServedByAnotherUIDIsRefused(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peer credentials of the listener: Linux")
	}
	u := testbin.NeedOtherUser(t, "listens on the agent socket")
	python := testbin.NeedTool(t, "python3")
	if p, err := exec.LookPath("/usr/bin/python3"); err == nil {
		python = p // the other user cannot reach root's pyenv shims
	}
	root := t.TempDir()
	dir := filepath.Join(root, "lanyard")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The other user makes its socket there, then we take the directory
	// and the socket file: only the process behind it stays theirs.
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{filepath.Dir(root), 0o711}, {root, 0o711}, {dir, 0o700}} {
		if err := os.Chmod(c.path, c.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	script := `import socket,sys
s=socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
print("ready",flush=True)
while True:
    c,_=s.accept()
    c.recv(65536)
    c.close()
`
	cmd := exec.Command(u.As[0], append(u.As[1:], python, "-c", script, sock)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("the other user's listener: %q, %v", line, err)
	}
	for _, p := range []string{dir, sock} {
		if err := os.Chown(p, os.Getuid(), os.Getgid()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := client.CheckSocket(sock); err != nil {
		t.Fatalf("the file checks alone should pass here: %v", err)
	}

	vars := map[string]string{"HOME": root, "XDG_RUNTIME_DIR": root, "LANYARD_AGENT": "on", "LANYARD_ENGINE": "/nonexistent/lanyard-engine"}
	c := client.New(func(k string) string { return vars[k] }, io.Discard, false)
	var se *client.SecurityError
	_, err = c.Ask(context.Background(), &wire.Request{Op: wire.OpPing})
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "serves it") {
		t.Fatalf("Ask: got %v; want a SecurityError naming the serving uid", err)
	}
	resp, err := c.Resolve(context.Background(), &wire.Request{Op: wire.OpGet, Tool: wire.ToolToken, Profile: "p"})
	if !errors.As(err, &se) {
		t.Fatalf("Resolve: got %+v, %v; want a SecurityError", resp, err)
	}
}
