package pykeyring

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallIdempotent(t *testing.T) {
	site := t.TempDir()
	ch, err := Install(site, "/usr/local/bin/lanyard")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ch {
		if !c.Written {
			t.Errorf("first install did not write %s", c.Path)
		}
	}
	src, _ := os.ReadFile(filepath.Join(site, "keyrings", "lanyard.py"))
	if !strings.Contains(string(src), `LANYARD = "/usr/local/bin/lanyard"`) {
		t.Errorf("installed backend does not record lanyard's path")
	}
	if _, err := os.Stat(filepath.Join(site, "keyrings", "__init__.py")); err == nil {
		t.Errorf("keyrings/__init__.py written: keyrings is a namespace package")
	}
	ch, err = Install(site, "/usr/local/bin/lanyard")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ch {
		if c.Written {
			t.Errorf("second install rewrote %s", c.Path)
		}
	}
}

func TestIndexURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://pypi.example.com":          "https://pypi.example.com/simple/",
		"https://pypi.example.com/":         "https://pypi.example.com/simple/",
		"https://h.example.com/api/simple/": "https://h.example.com/api/simple/",
		"https://h.example.com:8443/x":      "https://h.example.com:8443/x/",
	} {
		if got := IndexURL(in); got != want {
			t.Errorf("IndexURL(%q): got %q, want %q", in, got, want)
		}
	}
	if got := WithUser("https://h.example.com/simple/", "oauth2"); got != "https://oauth2@h.example.com/simple/" {
		t.Errorf("WithUser: got %q", got)
	}
}
