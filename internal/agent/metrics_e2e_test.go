package agent

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/testbin"
)

// lanyard agent metrics prints counters that promtool accepts and that
// count what happened; --metrics-listen serves the same; the refresh is
// in the audit log.
func TestAgentMetrics(t *testing.T) {
	promtool := testbin.NeedTool(t, "promtool")
	w := newForwardWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, errOut, code := w.local.Run(t, "", "lanyard", "agent", "start", "--metrics-listen", addr); code != 0 {
		t.Fatalf("lanyard agent start --metrics-listen: %d %s", code, errOut)
	}
	for range 2 {
		if out, errOut, code := w.local.Run(t, "", "lanyard", "token", "a"); code != 0 || !w.op.Valid(strings.TrimSpace(out)) {
			t.Fatalf("lanyard token a: %d %q %s", code, out, errOut)
		}
	}
	text, errOut, code := w.local.Run(t, "", "lanyard", "agent", "metrics")
	if code != 0 {
		t.Fatalf("lanyard agent metrics: %d %s", code, errOut)
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	for _, want := range []string{
		`lanyard_agent_requests_total{result="ok",tool="token"} 2`,
		`lanyard_agent_memory_hits_total 1`,
		`lanyard_refreshes_total{result="ok"} 1`,
		`lanyard_refresh_duration_seconds_count 1`,
		`lanyard_handouts_total{via="socket"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "lanyard_agent_memory_hits_total 1") {
		t.Errorf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	e := w.waitEvent(t, "refresh", func(e audit.Event) bool { return e.Kind == audit.KindRefresh })
	if e.Profile != "a" || e.Result != "ok" || e.Seconds <= 0 {
		t.Errorf("refresh event %+v", e)
	}
	w.waitEvent(t, "hand-out on the agent socket", func(e audit.Event) bool {
		return e.Kind == audit.KindHandout && e.Tool == "token" && e.Forward == "" && e.PID != 0
	})
}

// An audit log that cannot be written holds up no hand-out and shows in
// lanyard agent status.
func TestAuditFailureInStatus(t *testing.T) {
	w := newForwardWorld(t)
	// A full disk: every write fails with ENOSPC.
	path := env.Env(w.local.Getenv).AuditPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/full", path); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := w.local.Run(t, "", "lanyard", "token", "a"); code != 0 || !w.op.Valid(strings.TrimSpace(out)) {
		t.Fatalf("lanyard token a with an unwritable audit log: %d %q %s", code, out, errOut)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _, _ := w.local.Run(t, "", "lanyard", "agent", "status")
		if strings.Contains(out, "audit: ") && strings.Contains(out, "could not be written") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lanyard agent status does not report the audit failures:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
