package grant

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPluginDirs(t *testing.T) {
	got := PluginDirs("/home/u/.local/share/lanyard", "/usr/bin::relative:/usr/local/bin:/usr/bin/")
	want := []string{"/home/u/.local/share/lanyard/plugins", "/usr/bin", "/usr/local/bin"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (relative and empty entries skipped, duplicates once)", got, want)
	}
}

func TestCheckPluginName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"github-app", true}, {"gcp.metadata_v2", true}, {"A1", true},
		{"", false}, {"../x", false}, {"a/b", false}, {"-x", false}, {".hidden", false}, {strings.Repeat("a", 65), false},
	} {
		if err := CheckPluginName(tt.name); (err == nil) != tt.ok {
			t.Errorf("CheckPluginName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func writeExe(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}

func TestFindAndList(t *testing.T) {
	data, path1, path2 := t.TempDir(), t.TempDir(), t.TempDir()
	writeExe(t, filepath.Join(data, "lanyard-grant-b"), 0o755)
	writeExe(t, filepath.Join(path1, "lanyard-grant-b"), 0o755)
	writeExe(t, filepath.Join(path1, "lanyard-grant-a"), 0o755)
	writeExe(t, filepath.Join(path1, "lanyard-grant-noexec"), 0o644)
	writeExe(t, filepath.Join(path2, "lanyard-grant-c"), 0o700)
	writeExe(t, filepath.Join(path2, "other-tool"), 0o755)
	if err := os.Mkdir(filepath.Join(path2, "lanyard-grant-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &PluginHost{Dirs: []string{data, path1, path2, filepath.Join(data, "missing")}}

	for name, want := range map[string]string{
		"a": filepath.Join(path1, "lanyard-grant-a"),
		"b": filepath.Join(data, "lanyard-grant-b"),
		"c": filepath.Join(path2, "lanyard-grant-c"),
	} {
		if got, err := h.Find(name); err != nil || got != want {
			t.Errorf("Find(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"noexec", "dir", "nope"} {
		if _, err := h.Find(name); err == nil || !strings.Contains(err.Error(), "not found: no executable lanyard-grant-"+name+" in "+data+" or on PATH") {
			t.Errorf("Find(%s): got %v, want not found", name, err)
		}
	}

	got := h.List()
	want := []PluginFile{
		{Name: "a", Path: filepath.Join(path1, "lanyard-grant-a")},
		{Name: "b", Path: filepath.Join(data, "lanyard-grant-b")},
		{Name: "b", Path: filepath.Join(path1, "lanyard-grant-b"), ShadowedBy: filepath.Join(data, "lanyard-grant-b")},
		{Name: "c", Path: filepath.Join(path2, "lanyard-grant-c")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestFileSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := FileSHA256(p)
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; err != nil || got != want {
		t.Errorf("got %s, %v; want %s", got, err, want)
	}
}

func TestPluginTokenConversion(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   *PluginToken
		want *Token
		err  string
	}{
		{
			name: "full token",
			in: &PluginToken{AccessToken: "at", TokenType: "bearer", Expiry: now.Add(time.Hour), State: "s2",
				Extra: map[string]string{"id_token": "idt", "scope": "a b", "other": "x"}},
			want: &Token{AccessToken: "at", TokenType: "Bearer", IDToken: "idt", Expiry: now.Add(time.Hour), Scope: []string{"a", "b"}, State: "s2"},
		},
		{
			name: "no expiry: short default",
			in:   &PluginToken{AccessToken: "at"},
			want: &Token{AccessToken: "at", TokenType: "Bearer", Expiry: now.Add(DefaultLifetime), ExpiryGuessed: true},
		},
		{name: "expired on arrival", in: &PluginToken{AccessToken: "at", Expiry: now.Add(-time.Second)},
			err: `grant plugin "p" returned a token that expired at 2026-01-02T03:04:04Z`},
		{name: "empty", in: &PluginToken{}, err: `grant plugin "p" returned no access token`},
		{name: "newline in the token", in: &PluginToken{AccessToken: "at\nLD_PRELOAD=x", Expiry: now.Add(time.Hour)},
			err: `grant plugin "p": access_token has a character that is not printable ASCII`},
		{name: "newline in the id_token", in: &PluginToken{AccessToken: "at", Extra: map[string]string{"id_token": "a\rb"}},
			err: `grant plugin "p": id_token has a character that is not printable ASCII`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &PluginHost{Now: func() time.Time { return now }}
			got, err := h.convert("p", tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// fakeHost installs a lanyard-plugin-host script that saves its request
// and prints answer.
func fakeHost(t *testing.T, answer string) (*PluginHost, string) {
	t.Helper()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	writeExe(t, filepath.Join(plugins, "lanyard-grant-x"), 0o755)
	reqFile := filepath.Join(dir, "request.json")
	host := filepath.Join(dir, "bin", PluginHostName)
	writeExe(t, host, 0o755)
	script := "#!/bin/sh\ncat > '" + reqFile + "'\necho 'host log line' >&2\nprintf '%s\\n' '" + answer + "'\n"
	if err := os.WriteFile(host, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &PluginHost{Dirs: []string{plugins}, HostPaths: []string{filepath.Join(dir, "missing"), host}, Timeout: 5 * time.Second}, reqFile
}

func TestPluginHostProtocol(t *testing.T) {
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	h, reqFile := fakeHost(t, `{"token":{"access_token":"at","expiry":"`+exp.Format(time.RFC3339)+`","state":"s2"}}`)
	var stderr strings.Builder
	h.Stderr, h.Debug = &stderr, true
	req := PluginRequest{Name: "x", Profile: "p", State: "s1",
		Settings: map[string]string{"key": "env:K", "id": "1"},
		Resolve: func(_ context.Context, k, v string) (string, bool, error) {
			if v == "env:K" {
				return "SECRET", true, nil
			}
			return v, false, nil
		}}
	tok, err := h.Token(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at" || !tok.Expiry.Equal(exp) || tok.State != "s2" {
		t.Errorf("got %+v", tok)
	}
	if stderr.String() != "host log line\n" {
		t.Errorf("got stderr %q, want the host's log passed through", stderr.String())
	}
	data, err := os.ReadFile(reqFile)
	if err != nil {
		t.Fatal(err)
	}
	var got HostRequest
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := HostRequest{Op: "token", Name: "x", Path: h.Dirs[0] + "/lanyard-grant-x", Profile: "p", State: "s1",
		Settings: map[string]string{"key": "SECRET", "id": "1"}, Refs: []string{"key"}, TimeoutMS: 5000, Debug: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("host got  %+v\nwant %+v", got, want)
	}
}

func TestPluginHostErrors(t *testing.T) {
	tests := []struct {
		name, answer, want string
		setting            bool
	}{
		{"plugin error", `{"error":"grant plugin \"x\": upstream said no"}`, `grant plugin "x": upstream said no`, false},
		{"setting error", `{"error":"setting id: bad","setting_error":true}`, "setting id: bad", true},
		{"not JSON", `panic: oops`, `answered "panic: oops", not JSON`, false},
		{"empty answer", `{}`, "answered neither a token nor an error", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := fakeHost(t, tt.answer)
			_, err := h.Token(t.Context(), PluginRequest{Name: "x"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			var se *PluginSettingError
			if errors.As(err, &se) != tt.setting {
				t.Errorf("got PluginSettingError %v, want %v", !tt.setting, tt.setting)
			}
		})
	}
	h, _ := fakeHost(t, "{}")
	h.HostPaths = h.HostPaths[:1]
	if _, err := h.Token(t.Context(), PluginRequest{Name: "x"}); err == nil || !strings.Contains(err.Error(), "lanyard-plugin-host not found") {
		t.Errorf("without a host: got %v", err)
	}
	// A relative LANYARD_PLUGIN_HOST would resolve against the caller's
	// working directory (git runs helpers in the repository).
	h.HostPaths = []string{PluginHostName}
	if _, err := h.Token(t.Context(), PluginRequest{Name: "x"}); err == nil || !strings.Contains(err.Error(), "is not absolute") {
		t.Errorf("relative host path: got %v", err)
	}
}

// TestHotPathLinksNoGRPC guards the split: the engine and every helper
// import this package, and go-plugin and gRPC would add ~10 ms to each of
// their starts. Only lanyard-plugin-host may link them.
func TestHotPathLinksNoGRPC(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/lanyardhq/lanyard/internal/engine").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "google.golang.org/grpc") || strings.HasPrefix(dep, "github.com/hashicorp/go-plugin") ||
			dep == "github.com/lanyardhq/lanyard/plugin" {
			t.Errorf("internal/engine depends on %s; keep go-plugin code in internal/grant/pluginhost", dep)
		}
	}
}
