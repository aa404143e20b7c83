package grant

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/lanyardhq/lanyard/plugin"
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

// schemaGrant is a plugin with a settings schema that returns what its
// fields say, for call over go-plugin's in-process gRPC connection.
type schemaGrant struct {
	settings []plugin.Setting
	token    *plugin.Token
	got      map[string]string
	gotState string
}

func (g *schemaGrant) Describe(context.Context) (*plugin.Description, error) {
	return &plugin.Description{Name: "schema", Version: "1", Settings: g.settings}, nil
}

func (g *schemaGrant) Token(_ context.Context, s map[string]string, state string) (*plugin.Token, error) {
	g.got, g.gotState = s, state
	return g.token, nil
}

func dispense(t *testing.T, impl plugin.Grant) plugin.Grant {
	t.Helper()
	client, _ := goplugin.TestPluginGRPCConn(t, false, goplugin.PluginSet{plugin.PluginName: &plugin.GRPCPlugin{Impl: impl}})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(plugin.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(plugin.Grant)
}

func TestPluginCall(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	schema := []plugin.Setting{{Name: "id", Required: true}, {Name: "key", Secret: true}, {Name: "url"}}
	tests := []struct {
		name     string
		schema   []plugin.Setting
		settings map[string]string
		refs     map[string]bool
		token    *plugin.Token
		want     *Token
		err      string
		setting  bool
	}{
		{
			name: "full token", schema: schema,
			settings: map[string]string{"id": "1", "key": "PEM"}, refs: map[string]bool{"key": true},
			token: &plugin.Token{AccessToken: "at", TokenType: "bearer", Expiry: now.Add(time.Hour), State: "s2",
				Extra: map[string]string{"id_token": "idt", "scope": "a b", "other": "x"}},
			want: &Token{AccessToken: "at", TokenType: "Bearer", IDToken: "idt", Expiry: now.Add(time.Hour), Scope: []string{"a", "b"}, State: "s2"},
		},
		{
			name: "no expiry: short default", settings: map[string]string{"anything": "goes"},
			token: &plugin.Token{AccessToken: "at"},
			want:  &Token{AccessToken: "at", TokenType: "Bearer", Expiry: now.Add(DefaultLifetime), ExpiryGuessed: true},
		},
		{
			name: "expired on arrival", token: &plugin.Token{AccessToken: "at", Expiry: now.Add(-time.Second)},
			err: "returned a token that expired at 2026-01-02T03:04:04Z",
		},
		{
			name: "missing required", schema: schema, settings: map[string]string{"key": "PEM"}, refs: map[string]bool{"key": true},
			err: "setting id: missing; plugin schema needs it", setting: true,
		},
		{
			name: "secret in clear", schema: schema, settings: map[string]string{"id": "1", "key": "PEM"},
			err: "setting key: is a secret: write a reference", setting: true,
		},
		{
			name: "unknown setting", schema: schema, settings: map[string]string{"id": "1", "colour": "red"},
			err: "setting colour: plugin schema does not know it; it reads id, key, url", setting: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			impl := &schemaGrant{settings: tt.schema, token: tt.token}
			h := &PluginHost{Now: func() time.Time { return now }}
			req := PluginRequest{Name: "schema", Profile: "p", State: "s1"}
			got, err := h.call(t.Context(), dispense(t, impl), req, tt.settings, tt.refs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				var se *plugin.SettingError
				if errors.As(err, &se) != tt.setting {
					t.Errorf("got SettingError %v, want %v", !tt.setting, tt.setting)
				}
				if tt.setting && impl.got != nil {
					t.Error("the plugin's Token was called despite a settings error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Expiry = got.Expiry.UTC()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if impl.gotState != "s1" || !reflect.DeepEqual(impl.got, tt.settings) {
				t.Errorf("plugin got settings %v state %q, want %v s1", impl.got, impl.gotState, tt.settings)
			}
		})
	}
}
