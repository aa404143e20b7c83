package git

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/desktop"
)

func TestRealms(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{`Basic realm="Gitea"`}, []string{"Gitea"}},
		{[]string{`Basic realm="GitLab"`, `Bearer realm="x", error="invalid_token"`}, []string{"GitLab", "x"}},
		{[]string{`Bearer error="a, b", realm="q\"uote"`}, []string{`q"uote`}},
		{[]string{`Basic realm=GitHub, Negotiate`}, []string{"GitHub"}},
		{[]string{`Negotiate abc==`, `Basic REALM = "Atlassian Bitbucket"`}, []string{"Atlassian Bitbucket"}},
		{[]string{`Basic realm="unterminated`}, []string{"unterminated"}},
		{[]string{"Negotiate", ""}, nil},
	}
	for _, tc := range tests {
		if got := Realms(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Realms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInitHint(t *testing.T) {
	req := func(proto, host string, wwwauth ...string) Request {
		return Request{Protocol: proto, Host: host, WWWAuth: wwwauth}
	}
	tests := []struct {
		name string
		r    Request
		want string
	}{
		{"gitea", req("https", "git.example.com", `Basic realm="Gitea"`), "lanyard init gitea https://git.example.com"},
		{"gitea on a port, http", req("http", "127.0.0.1:3000", `Basic realm="Gitea"`), "lanyard init gitea http://127.0.0.1:3000"},
		{"forgejo realm", req("https", "forge.example.com", `Basic realm="Forgejo"`), "lanyard init forgejo https://forge.example.com"},
		{"codeberg says Gitea", req("https", "codeberg.org", `Basic realm="Gitea"`), "lanyard init forgejo"},
		{"gitea.com", req("https", "gitea.com", `Basic realm="Gitea"`), "lanyard init gitea"},
		{"gitlab.com", req("https", "gitlab.com", `Basic realm="GitLab"`), "lanyard init gitlab"},
		{"self-managed gitlab", req("https", "gitlab.example.com", `Basic realm="GitLab"`), "lanyard init gitlab https://gitlab.example.com"},
		{"github.com", req("https", "github.com", `Basic realm="GitHub"`), "lanyard init github"},
		{"GHES", req("https", "ghe.example.com", `Basic realm="GitHub"`), "lanyard init github https://ghe.example.com"},
		{"bitbucket cloud", req("https", "bitbucket.org", `Basic realm="Bitbucket.org HTTP"`), "lanyard init bitbucket"},
		{"bitbucket DC", req("https", "bitbucket.example.com", `Basic realm="Atlassian Bitbucket"`), "lanyard init bitbucket https://bitbucket.example.com"},
		{"realm case", req("https", "g.example.com", `basic realm="gitea"`), "lanyard init gitea https://g.example.com"},
		{"unknown realm", req("https", "git.example.com", `Basic realm="git"`), ""},
		{"no wwwauth (git before 2.41)", req("https", "github.com"), ""},
		{"no host", req("https", "", `Basic realm="Gitea"`), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := InitHint(tc.r); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzRealms(f *testing.F) {
	for _, s := range []string{`Basic realm="Gitea"`, `Bearer error="a, b", realm="q\"uote"`, `realm=`, `"`, `a=b=c, ,`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Realms([]string{s})
		_ = InitHint(Request{Protocol: "https", Host: "h", WWWAuth: []string{s}})
	})
}

// TestHintForgeOncePerHostPerDay: the line comes once per host and day,
// another host gets its own, the next day it comes again, and a state
// directory that cannot be written never stops it.
func TestHintForgeOncePerHostPerDay(t *testing.T) {
	dir := t.TempDir()
	gitea := Request{Protocol: "https", Host: "git.example.com", WWWAuth: []string{`Basic realm="Gitea"`}}
	other := Request{Protocol: "https", Host: "gitlab.example.com", WWWAuth: []string{`Basic realm="GitLab"`}}
	day1 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	run := func(r Request, now time.Time) string {
		var b strings.Builder
		hintForge(dir, r, now, &b)
		return b.String()
	}
	want := "lanyard: https://git.example.com looks like a Gitea (or Forgejo) server and no lanyard profile serves it; to log in with lanyard run: lanyard init gitea https://git.example.com\n"
	if got := run(gitea, day1); got != want {
		t.Fatalf("first: got %q, want %q", got, want)
	}
	if got := run(gitea, day1.Add(3*time.Hour)); got != "" {
		t.Errorf("same day: got %q, want nothing", got)
	}
	if got := run(other, day1); !strings.Contains(got, "lanyard init gitlab https://gitlab.example.com") {
		t.Errorf("another host: got %q", got)
	}
	if got := run(gitea, day1.Add(3*time.Hour)); got != "" {
		t.Errorf("same day after another host: got %q, want nothing", got)
	}
	if got := run(gitea, day1.Add(24*time.Hour)); got != want {
		t.Errorf("next day: got %q, want the line again", got)
	}
	if got := run(Request{Protocol: "https", Host: "h", WWWAuth: []string{`Basic realm="git"`}}, day1); got != "" {
		t.Errorf("no forge: got %q", got)
	}
	ro := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(ro, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	hintForge(filepath.Join(ro, "sub"), gitea, day1, &b) // a file where the directory should be
	if b.String() != want {
		t.Errorf("unwritable state: got %q, want the line", b.String())
	}
}

func TestRemoteLoginHint(t *testing.T) {
	for _, tc := range []struct {
		d    desktop.Decision
		want string
	}{
		{desktop.Decision{Place: desktop.SSH}, "this is an SSH session: log in on its terminal with lanyard login p (it shows a code to enter on any device), or run lanyard agent forward --profiles p on your own machine"},
		{desktop.Decision{Place: desktop.Container}, "this is a container:"},
		{desktop.Decision{Place: desktop.SSH, Open: desktop.BROWSER}, ""},
		{desktop.Decision{Place: desktop.Desktop, Open: desktop.OS}, ""},
		{desktop.Decision{Place: desktop.Headless}, ""},
	} {
		got := remoteLoginHint(tc.d, "p")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%+v: got %q, want %q", tc.d, got, tc.want)
		}
	}
}
