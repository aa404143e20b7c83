package kubectl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The ExecCredential protocol does not tell a plugin why it runs (v1alpha1's
// spec.response was removed). client-go runs it once per process and exec
// configuration, then again only when the credential's expirationTimestamp
// has passed or the API server answered 401 (exec.Authenticator's
// maybeRefreshCreds), and never while an earlier run is still going.
// lanyard never hands out a token past its expiry, so a second request from
// the same client process for the token it already holds means the server
// rejected that token: revoked, or the cluster's clock disagrees.
//
// parentMarks remembers, per parent process, profile and token choice, a
// fingerprint of the token last handed out, in a small file under
// $XDG_STATE_HOME/lanyard/kubectl/. The fingerprint is a truncated SHA-256:
// it tells two tokens apart and reveals nothing about them. Files of
// parents that have exited are removed when a new parent first asks.
//
// Two guards keep anything that is not client-go from causing refreshes:
// a mark written after this process started comes from a sibling running
// at the same time (client-go waits for the plugin to exit before it uses
// the token), and a parent gets at most one forced refresh per
// rerunRefreshEvery, so a server that rejects every token (wrong audience)
// cannot turn a long-running client into a refresh loop.

// rerunRefreshEvery is the least time between two refreshes forced by the
// same parent.
const rerunRefreshEvery = 30 * time.Second

// markMaxAge bounds how long a mark is kept where the parent's liveness
// cannot be checked (no /proc).
const markMaxAge = 24 * time.Hour

type parentMarks struct {
	dir  string
	name string // this parent's file
}

// mark is what a parent's file holds.
type mark struct {
	fp      string    // fingerprint of the token handed out
	written time.Time // when it was handed out
	forced  time.Time // last refresh this parent forced, or zero
}

// newParentMarks finds the marks of parent ppid for key (profile and the
// token kind it receives).
func newParentMarks(stateDir, key string, ppid int) *parentMarks {
	// The parent's executable is part of its identity: a process that
	// replaces itself (execve keeps pid and start time) is a new client.
	// Google Cloud SDK's kubectl is such a dispatcher: it asks the server
	// for its version through the plugin, then execs kubectl.1.NN.
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(ppid) + "/exe")
	h := sha256.Sum256([]byte(key + "\x00" + exe))
	start, _ := processStart(ppid)
	if start == "" {
		start = "0"
	}
	return &parentMarks{
		dir:  filepath.Join(stateDir, "kubectl"),
		name: fmt.Sprintf("%s.%d.%s", hex.EncodeToString(h[:6]), ppid, start),
	}
}

// read returns this parent's mark, or the zero mark.
func (m *parentMarks) read() mark {
	b, err := os.ReadFile(filepath.Join(m.dir, m.name))
	if err != nil {
		return mark{}
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return mark{}
	}
	w, err1 := strconv.ParseInt(f[1], 10, 64)
	fo, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return mark{}
	}
	mk := mark{fp: f[0], written: time.Unix(0, w)}
	if fo != 0 {
		mk.forced = time.Unix(0, fo)
	}
	return mk
}

// isRerun reports whether handing out fp, in a process started at
// started, answers a repeat from client-go, and whether a refresh may be
// forced for it now.
func (mk mark) isRerun(fp string, started, now time.Time) (rerun, refresh bool) {
	if mk.fp == "" || mk.fp != fp || !mk.written.Before(started) {
		return false, false
	}
	return true, mk.forced.IsZero() || now.Sub(mk.forced) >= rerunRefreshEvery
}

// write records mk. A new parent first removes the marks of parents that
// have gone. The latest forced refresh recorded by anyone is kept.
func (m *parentMarks) write(mk mark) error {
	path := filepath.Join(m.dir, m.name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(m.dir, 0o700); err != nil {
			return err
		}
		m.prune()
	} else if cur := m.read(); cur.forced.After(mk.forced) {
		mk.forced = cur.forced
	}
	var forced int64
	if !mk.forced.IsZero() {
		forced = mk.forced.UnixNano()
	}
	return os.WriteFile(path, fmt.Appendf(nil, "%s %d %d\n", mk.fp, mk.written.UnixNano(), forced), 0o600)
}

// prune removes the marks of parents that no longer run (or whose pid now
// belongs to another process).
func (m *parentMarks) prune() {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		parts := strings.Split(e.Name(), ".")
		if len(parts) != 3 || e.Name() == m.name {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil {
			continue
		}
		start, known := processStart(pid)
		gone := known && start != parts[2]
		if !known {
			info, err := e.Info()
			gone = err == nil && time.Since(info.ModTime()) > markMaxAge
		}
		if gone {
			_ = os.Remove(filepath.Join(m.dir, e.Name()))
		}
	}
}

// processStart returns the start time of process pid from /proc (clock
// ticks since boot, field 22 of /proc/PID/stat), which tells a live parent
// from a new process that reuses its pid. known is false where there is no
// /proc; start is "" (and known true) when the process does not exist.
func processStart(pid int) (start string, known bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if _, serr := os.Stat("/proc/self/stat"); serr == nil {
			return "", true
		}
		return "", false
	}
	// The command name (field 2) may contain spaces and parentheses: the
	// fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", false
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return "", false
	}
	return fields[19], true
}

// fingerprint identifies a token without revealing it.
func fingerprint(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:12])
}
