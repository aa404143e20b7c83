// Package keyringenv makes throw-away keyring backends for end-to-end tests
// and benchmarks: gnome-keyring in a D-Bus session of its own, and a gpg key
// with a password store for pass. Nothing here touches the user's own
// keyrings: every path comes from the environment the caller passes.
package keyringenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Password unlocks (and at first creates) the throw-away login keyring.
const Password = "lanyard-throw-away-keyring"

// Session is a D-Bus session with gnome-keyring's secret service in it.
type Session struct {
	// Addr is the session's DBUS_SESSION_BUS_ADDRESS.
	Addr  string
	Close func()
}

// StartSecretService starts dbus-run-session running gnome-keyring-daemon,
// with env (which must set HOME, XDG_DATA_HOME and a private
// XDG_RUNTIME_DIR) and dir as working directory. With unlock, the login
// keyring is unlocked, and created the first time, with Password; without,
// it stays locked. One session per XDG_RUNTIME_DIR at a time: a second
// daemon hands over to the first through $XDG_RUNTIME_DIR/keyring/control.
func StartSecretService(env []string, dir string, unlock bool) (*Session, error) {
	start := "gnome-keyring-daemon --start --components=secrets"
	if unlock {
		start = `printf %s "$LANYARD_THROW_AWAY_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets`
	}
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c",
		start+` >/dev/null 2>&1 && echo "$DBUS_SESSION_BUS_ADDRESS" && exec cat >/dev/null`)
	cmd.Env = append(append([]string(nil), env...), "LANYARD_THROW_AWAY_PASSWORD="+Password)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe() // the session lasts until this is closed
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Session{Close: sync.OnceFunc(func() {
		stdin.Close()
		_ = cmd.Wait()
	})}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(addr, "unix:") {
		s.Close()
		return nil, fmt.Errorf("no D-Bus session with gnome-keyring (%q, %v): %s", addr, err, strings.TrimSpace(stderr.String()))
	}
	s.Addr = strings.TrimSpace(addr)
	return s, nil
}

// InitPass makes a gpg key without passphrase (batch mode) in env's
// GNUPGHOME and initialises env's PASSWORD_STORE_DIR for it. stop ends the
// gpg-agent it started.
func InitPass(env []string, dir string) (stop func(), err error) {
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env, cmd.Dir = env, dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return stdout.String(), nil
	}
	stop = func() { _, _ = run("gpgconf", "--kill", "gpg-agent") }
	if _, err := run("gpg", "--batch", "--passphrase", "", "--quick-gen-key", "lanyard throw-away <throw-away@lanyard.test>", "default", "default", "never"); err != nil {
		stop()
		return nil, err
	}
	colons, err := run("gpg", "--list-keys", "--with-colons")
	if err != nil {
		stop()
		return nil, err
	}
	fpr := ""
	for _, line := range strings.Split(colons, "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	if fpr == "" {
		stop()
		return nil, errors.New("gpg made no key")
	}
	if _, err := run("pass", "init", fpr); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}
