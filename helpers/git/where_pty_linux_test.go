package git_test

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// TestGitSSHTerminalGetsDeviceCode: git in an SSH session, on a terminal
// (a pty), for an authorization code profile nobody logged in to, at a
// provider that offers the device grant: no browser, no loopback URL; the
// terminal shows the verification URL and the code, and git goes on once
// the code is approved on "another device" (the OP's verification page).
func TestGitSSHTerminalGetsDeviceCode(t *testing.T) {
	w, op, repo := sshWorld(t)
	w.env.Set("GIT_TERMINAL_PROMPT", "") // a person is at this terminal

	master, slave := testbin.OpenPTY(t)
	term := testbin.NewTerminal(master)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.git, "ls-remote", repo)
	cmd.Env, cmd.Dir = w.env.Vars(), w.env.Home
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &out, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Only git holds the terminal now: when it exits (or the context
	// kills it), reading the master fails instead of waiting forever.
	slave.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	shown := term.Expect(t, "and enter the code:")
	shown += term.Expect(t, "\n    ") // the code's indented line (the tty writes \r\n)
	shown += term.Expect(t, "\n")
	m := regexp.MustCompile(`and enter the code:\s+(\S+)`).FindStringSubmatch(shown)
	if m == nil {
		t.Fatalf("no code on the terminal:\n%s", shown)
	}
	if strings.Contains(shown, "/authorize?") {
		t.Errorf("a loopback authorize URL was shown in an SSH session:\n%s", shown)
	}
	if !strings.Contains(shown, "this is an SSH session") {
		t.Errorf("the terminal does not say why the device login is used:\n%s", shown)
	}
	if err := op.ApproveDevice(ctx, m[1]); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("git ls-remote: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "refs/heads/main") {
		t.Errorf("ls-remote printed %q", out.String())
	}
}
