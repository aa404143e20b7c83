package pykeyring

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestServiceURL(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"https://pypi.example.com/simple/", "https://pypi.example.com/simple/", true},
		{"http://127.0.0.1:8080/simple", "http://127.0.0.1:8080/simple", true},
		{"pypi.example.com", "https://pypi.example.com/", true},
		{"127.0.0.1:8443", "https://127.0.0.1:8443/", true},
		{"  pypi.example.com\t", "https://pypi.example.com/", true},
		{"", "", false},
		{"https://", "", false},
		{"my-app-secret", "https://my-app-secret/", true}, // matches no profile unless one claims that host
		{"ftp://x/", "", false},
		{"user@host", "", false},
		{"host/path", "", false},
		{"a b", "", false},
		{"https://h/\nx", "", false},
	} {
		got, ok := ServiceURL(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ServiceURL(%q): got %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	for _, c := range []struct {
		name string
		c    Credential
		want string
		err  string
	}{
		{name: "default user", c: Answer("p", "", "tok", exp), want: `{"username":"oauth2","password":"tok","profile":"p","expires_at":"2030-01-02T03:04:05Z"}` + "\n"},
		{name: "pypi user", c: Answer("p", "__token__", "tok", exp), want: `{"username":"__token__","password":"tok","profile":"p","expires_at":"2030-01-02T03:04:05Z"}` + "\n"},
		{name: "no expiry", c: Answer("p", "", "tok", time.Time{}), want: `{"username":"oauth2","password":"tok","profile":"p"}` + "\n"},
		{name: "colon user", c: Answer("p", "a:b", "tok", exp), err: "cannot be sent"},
		{name: "newline user", c: Answer("p", "a\nb", "tok", exp), err: "cannot be sent"},
		{name: "empty token", c: Answer("p", "", "", exp), err: "empty token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Format(c.c)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error: got %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || string(got) != c.want {
				t.Errorf("got %s, %v; want %s", got, err, c.want)
			}
		})
	}
}

// FuzzFormat: any username and token either is refused or makes one JSON
// line that reads back to the same values.
func FuzzFormat(f *testing.F) {
	f.Add("__token__", "tok")
	f.Add("a:b", "x\ny")
	f.Add("", "\"}")
	f.Fuzz(func(t *testing.T, user, token string) {
		out, err := Format(Answer("p", user, token, time.Time{}))
		if err != nil {
			return
		}
		if strings.Count(string(out), "\n") != 1 {
			t.Fatalf("not one line: %q", out)
		}
		var c Credential
		if err := json.Unmarshal(out, &c); err != nil {
			t.Fatal(err)
		}
		if want := Answer("p", user, token, time.Time{}); c.Password != want.Password || c.Username != want.Username {
			t.Fatalf("password %q read back as %q", want.Password, c.Password)
		}
	})
}

// FuzzServiceURL: what ServiceURL accepts is one line without spaces.
func FuzzServiceURL(f *testing.F) {
	f.Add("https://pypi.example.com/simple/")
	f.Add("127.0.0.1:8443")
	f.Fuzz(func(t *testing.T, s string) {
		u, ok := ServiceURL(s)
		if ok && (strings.ContainsAny(u, " \t\r\n") || !strings.Contains(u, "://")) {
			t.Fatalf("ServiceURL(%q) = %q", s, u)
		}
	})
}
