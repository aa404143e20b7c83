package agent

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// forwardWorld is a local environment with an agent to forward, and a
// directory others can reach to put the forward's socket in (as a
// container's mount would be).
type forwardWorld struct {
	local *testbin.Env
	op    *testprovider.OP
	dir   string
	n     int
}

func newForwardWorld(t *testing.T) *forwardWorld {
	t.Helper()
	bin := testbin.Build(t, "lanyard")
	op, err := testprovider.StartOP(testprovider.OPOptions{AccessTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	local := testbin.NewEnv(t, bin)
	if local.Getenv("LANYARD_AGENT") == "off" {
		t.Skip("LANYARD_AGENT=off: no agent to forward")
	}
	local.Set(secretVar, op.ConfidentialClientSecret)
	local.WriteConfig(t, profiles(op, "a", "b"))
	dir, err := os.MkdirTemp("", "lyf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &forwardWorld{local: local, op: op, dir: dir}
}

// forward starts lanyard agent forward and returns its socket path and a
// channel closed when it exits.
func (w *forwardWorld) forward(t *testing.T, args ...string) (string, chan struct{}) {
	t.Helper()
	w.n++
	path := filepath.Join(w.dir, "fwd"+itoa(uint32(w.n))+".sock")
	cmd := w.local.Command("lanyard", append([]string{"agent", "forward", "--profiles", "a", "--socket", path}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	select {
	case l := <-line:
		if l != path {
			t.Fatalf("lanyard agent forward printed %q, want %s; stderr: %s", l, path, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("lanyard agent forward printed nothing in 30s: %s", stderr.String())
	}
	return path, done
}

// remote runs lanyard token a against sock as another process would in a
// container: as = a setpriv prefix for another uid, or nil.
func (w *forwardWorld) remote(t *testing.T, sock string, as []string) (string, string, int) {
	t.Helper()
	home := filepath.Join(w.dir, "home")
	_ = os.MkdirAll(home, 0o777)
	_ = os.Chmod(home, 0o777)
	args := append(append([]string(nil), as...), filepath.Join(w.local.Bin, "lanyard"), "token", "a")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + w.local.Bin + ":/usr/bin:/bin", "LANYARD_AGENT_SOCK=" + sock, "XDG_STATE_HOME=" + filepath.Join(home, "state")}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String()), errb.String(), code
}

func (w *forwardWorld) events(t *testing.T) []audit.Event {
	t.Helper()
	out, errOut, code := w.local.Run(t, "", "lanyard", "log", "--json")
	if code != 0 {
		t.Fatalf("lanyard log --json: %d %s", code, errOut)
	}
	var evs []audit.Event
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e audit.Event
		if l != "" && json.Unmarshal([]byte(l), &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs
}

func (w *forwardWorld) waitEvent(t *testing.T, what string, ok func(audit.Event) bool) audit.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, e := range w.events(t) {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit event: %s; the log: %+v", what, w.events(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// otherUser is testbin's other user as a setpriv prefix; the binaries'
// directory is made reachable for it.
func otherUser(t *testing.T, bin string) (prefix []string, uid string) {
	t.Helper()
	u := testbin.NeedOtherUser(t, "calls the forward")
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return u.As, strconv.Itoa(u.UID)
}

// A forward serves a caller of another uid (a container's user) only when
// --allow-uid lists it; that caller accepts the socket of another uid
// because the process serving it is that uid; both outcomes are audited.
func TestForwardToAnotherUID(t *testing.T) {
	w := newForwardWorld(t)
	as, uid := otherUser(t, w.local.Bin)

	// Not listed (another uid is): the socket is open to all, the peer
	// check refuses.
	sock, _ := w.forward(t, "--allow-uid", "12345")
	if out, _, code := w.remote(t, sock, as); code == 0 {
		t.Fatalf("uid %s got %q from a forward that allows only uid 12345", uid, out)
	}
	w.waitEvent(t, "refusal of uid "+uid, func(e audit.Event) bool {
		return e.Kind == audit.KindRefusal && e.UID != nil && uidIs(*e.UID, uid)
	})
	sock, _ = w.forward(t, "--allow-uid", uid)
	out, errOut, code := w.remote(t, sock, as)
	if code != 0 || !w.op.Valid(out) {
		t.Fatalf("uid %s through --allow-uid: exit %d, %q, %s", uid, code, out, errOut)
	}
	e := w.waitEvent(t, "hand-out to uid "+uid, func(e audit.Event) bool {
		return e.Kind == audit.KindHandout && e.UID != nil && uidIs(*e.UID, uid)
	})
	if e.Profile != "a" || e.Forward == "" || e.Fingerprint != audit.Fingerprint(out) || e.PID == 0 || !strings.HasSuffix(e.Exe, "lanyard") {
		t.Errorf("hand-out event %+v: want profile a, the forward, the fingerprint, pid and executable", e)
	}
}

func uidIs(u uint32, s string) bool { return s == itoa(u) }

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

// --ttl: the forward serves, then expires; a helper still holding the
// (mounted) socket says the forward is gone and starts no agent there.
// --list shows the forward while it runs.
func TestForwardTTLListAndGone(t *testing.T) {
	w := newForwardWorld(t)
	sock, done := w.forward(t, "--ttl", "3s")
	out, errOut, code := w.remote(t, sock, nil)
	if code != 0 || !w.op.Valid(out) {
		t.Fatalf("token through the forward: exit %d, %q, %s", code, out, errOut)
	}
	list, errOut, code := w.local.Run(t, "", "lanyard", "agent", "forward", "--list")
	if code != 0 || !strings.Contains(list, sock) || !strings.Contains(list, " a ") {
		t.Fatalf("lanyard agent forward --list: exit %d, %q, %s", code, list, errOut)
	}
	// A container's bind mount keeps the socket file after the forward
	// removes its own: a hard link stands in for it.
	mounted := filepath.Join(w.dir, "mounted.sock")
	if err := os.Link(sock, mounted); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the forward still runs 30s after its 3s TTL")
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("the forward's socket is still there after its TTL")
	}
	_, errOut, code = w.remote(t, mounted, nil)
	if code == 0 || !strings.Contains(errOut, "forward") {
		t.Errorf("a helper on an expired forward: exit %d, %q; want a failure that says the forward is gone", code, errOut)
	}
	if _, err := os.Stat(mounted + ".lock"); err == nil {
		t.Error("the helper started an agent of its own at the forward's path")
	}
	w.waitEvent(t, "forward closed by ttl", func(e audit.Event) bool { return e.Kind == audit.KindForwardClose && e.Reason == "ttl" })
	if list, _, _ := w.local.Run(t, "", "lanyard", "agent", "forward", "--list"); strings.Contains(list, sock) {
		t.Errorf("--list still shows the expired forward: %s", list)
	}
}

// --confirm on a forward: a refusing program keeps the token home.
func TestForwardConfirm(t *testing.T) {
	w := newForwardWorld(t)
	prog := filepath.Join(w.dir, "no")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	w.local.Set("LANYARD_CONFIRM_PROGRAM", prog)
	sock, _ := w.forward(t, "--confirm")
	if out, _, code := w.remote(t, sock, nil); code == 0 {
		t.Fatalf("a refused caller got %q", out)
	}
	w.waitEvent(t, "confirm refusal", func(e audit.Event) bool {
		return e.Kind == audit.KindRefusal && strings.Contains(e.Reason, "confirm")
	})
}
