//go:build !windows

package mcp_test

// make bench's side-by-side comparison of lanyard mcp with npm's
// mcp-remote (pinned in testdata/bench), on the same MCP server (the
// TypeScript SDK's) and authorization server (testprovider.MCPAuth:
// dynamic registration, PKCE, rotating refresh tokens with reuse
// detection). Not part of CI's pass/fail: it runs only with
// LANYARD_BENCH_MCP=1 (scripts/bench.sh sets it) and reports figures.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

type contender struct {
	name string
	argv func(wd *world) []string
}

func contenders(t *testing.T) []contender {
	remote, err := filepath.Abs(filepath.Join("testdata", "bench", "node_modules", ".bin", "mcp-remote"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(remote); err != nil {
		t.Skipf("mcp-remote is not installed: run (cd helpers/mcp/testdata/bench && npm ci)")
	}
	return []contender{
		{"lanyard mcp", func(wd *world) []string { return []string{filepath.Join(wd.bin, "lanyard"), "mcp", wd.server} }},
		{"mcp-remote 0.15.1", func(wd *world) []string { return []string{remote, wd.server, "--allow-http"} }},
	}
}

// compareWorld is a fresh HOME for one contender, with a browser (a
// script that follows the authorization redirects, as $BROWSER and as
// xdg-open) that logs in at once.
func compareWorld(t *testing.T) (*world, *testprovider.MCPAuth) {
	sdk := sdkDir(t)
	bin := testbin.Build(t, "lanyard")
	as, err := testprovider.StartMCPAuth()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	wd := &world{t: t, bin: bin, sdk: sdk}
	wd.server = startServer(t, sdk, as.URL+"/verify", "AS_URL="+as.URL)
	as.SetResource(wd.server)
	if wd.home, err = os.MkdirTemp("", "lyc"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(wd.home) })
	browserDir := filepath.Join(wd.home, "browser")
	_ = os.MkdirAll(browserDir, 0o700)
	script := "#!/bin/sh\nexec node " + filepath.Join(sdk, "browser.mjs") + " \"$1\"\n"
	for _, n := range []string{"xdg-open", "browser"} {
		if err := os.WriteFile(filepath.Join(browserDir, n), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	wd.extra = map[string]string{
		"LANYARD_KEYRING_BACKEND": "file", "LANYARD_KEYRING_PASSPHRASE": "bench-passphrase",
		"BROWSER": filepath.Join(browserDir, "browser"),
	}
	if env.Env(os.Getenv).AgentOff() {
		wd.extra["LANYARD_AGENT"] = "off"
	}
	wd.env = []string{"HOME=" + wd.home, "PATH=" + browserDir + string(os.PathListSeparator) + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C"}
	for k, v := range wd.extra {
		wd.env = append(wd.env, k+"="+v)
	}
	t.Cleanup(func() { wd.lanyard("", "agent", "stop") })
	return wd, as
}

// noBrowser takes the browser away: a later login cannot happen.
func (wd *world) noBrowser() {
	delete(wd.extra, "BROWSER")
	for i, kv := range wd.env {
		if strings.HasPrefix(kv, "BROWSER=") {
			wd.env = slices.Delete(wd.env, i, i+1)
			break
		}
	}
	for i, kv := range wd.env {
		if strings.HasPrefix(kv, "PATH=") {
			wd.env[i] = "PATH=" + wd.bin + string(os.PathListSeparator) + os.Getenv("PATH")
		}
	}
}

// clearOnDisk counts files under dir holding one of tokens in clear.
func clearOnDisk(dir string, tokens []string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, tok := range tokens {
			if strings.Contains(string(b), tok) {
				n++
				break
			}
		}
		return nil
	})
	return n
}

func TestCompareMCPRemote(t *testing.T) {
	if os.Getenv("LANYARD_BENCH_MCP") == "" {
		t.Skip("a comparison for make bench (LANYARD_BENCH_MCP=1), not a test")
	}
	type row struct{ name, five, reuse, killed, clear string }
	var rows []row
	for _, c := range contenders(t) {
		r := row{name: c.name}
		// Five instances across one expiry.
		wd, as := compareWorld(t)
		as.SetAccessTTL(2 * time.Second)
		if got, ok := wd.startCmd("init,echo", c.argv(wd)).resultWithin(t, 60*time.Second); !ok || got.Error != "" {
			t.Fatalf("%s: first login: %+v", c.name, got)
		}
		// Tokens issued from now on last an hour: one expiry, however
		// the contender meets it (lanyard's agent refreshes ahead).
		as.SetAccessTTL(time.Hour)
		before := as.TokenRequests()
		time.Sleep(2500 * time.Millisecond)
		var five []*mcpClient
		for range 5 {
			five = append(five, wd.startCmd("init,echo", c.argv(wd)))
		}
		okN := 0
		for _, cl := range five {
			if got, ok := cl.resultWithin(t, 60*time.Second); ok && got.Error == "" && len(got.Echo) == 1 {
				okN++
			}
		}
		r.five = fmt.Sprintf("%d (%d/5 worked)", as.TokenRequests()-before, okN)
		r.reuse = fmt.Sprint(as.ReuseDetections())
		r.clear = fmt.Sprint(clearOnDisk(wd.home, as.IssuedTokens()))

		// Killed during a refresh, then a start without a browser.
		wd, as = compareWorld(t)
		as.SetAccessTTL(2 * time.Second)
		if got, ok := wd.startCmd("init,echo", c.argv(wd)).resultWithin(t, 60*time.Second); !ok || got.Error != "" {
			t.Fatalf("%s: first login: %+v", c.name, got)
		}
		time.Sleep(2500 * time.Millisecond)
		as.SetTokenDelay(1500 * time.Millisecond)
		before = as.TokenRequests()
		victim := wd.startCmd("init,echo", c.argv(wd))
		for deadline := time.Now().Add(30 * time.Second); as.TokenRequests() == before && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		victim.kill()
		as.SetTokenDelay(0)
		as.SetAccessTTL(time.Hour)
		time.Sleep(2 * time.Second)
		wd.noBrowser()
		got, ok := wd.startCmd("init,echo", c.argv(wd)).resultWithin(t, 30*time.Second)
		if ok && got.Error == "" && len(got.Echo) == 1 && as.ReuseDetections() == 0 {
			r.killed = "0"
		} else {
			r.killed = fmt.Sprintf("1 (reuse detections %d)", as.ReuseDetections())
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	b.WriteString("\n| | token requests, 5 instances across an expiry | reuse detections | logins lost when killed during a refresh | files with tokens in clear |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.name, r.five, r.reuse, r.killed, r.clear)
	}
	fmt.Print(b.String())
}
