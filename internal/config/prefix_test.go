package config

import "testing"

func TestServedPrefix(t *testing.T) {
	p := &Profile{Name: "p", Match: []string{"https://Proxy.example.com/private/", "https://proxy.example.com/private/deep/er", "https://other.example.com:8443", "https://git.example.com/acme/app"}}
	for _, c := range []struct{ url, want string }{
		{"https://proxy.example.com/private/mod/@v/list", "https://proxy.example.com/private/"},
		{"https://proxy.example.com/private/deep/er/x", "https://proxy.example.com/private/deep/er/"},
		{"https://proxy.example.com/public/mod/@v/list", ""},
		{"https://proxy.example.com/privateer/x", ""},
		{"https://proxy.example.com", "https://proxy.example.com/private/"},
		{"https://proxy.example.com:443/private/x", "https://proxy.example.com/private/"},
		{"http://proxy.example.com/private/x", ""},
		{"https://other.example.com:8443/a/b", "https://other.example.com:8443/"},
		{"https://other.example.com/a/b", ""},
		{"https://git.example.com/acme/app.git/info/refs", "https://git.example.com/acme/app.git/"},
		{"https://proxy.example.com/private/../x", ""},
		{"::", ""},
	} {
		if got := p.ServedPrefix(c.url); got != c.want {
			t.Errorf("ServedPrefix(%q): got %q, want %q", c.url, got, c.want)
		}
	}
}

// TestServedPrefixUsername: a prefix with a username serves only URLs
// with that username (config.Match's rule), here as everywhere.
func TestServedPrefixUsername(t *testing.T) {
	p := &Profile{Name: "p", Match: []string{"https://github.com/", "https://work@github.com/acme"}}
	for _, c := range []struct{ url, want string }{
		{"https://github.com/acme/app", "https://github.com/"},
		{"https://work@github.com/acme/app", "https://github.com/acme/"},
		{"https://other@github.com/acme/app", "https://github.com/"},
	} {
		if got := p.ServedPrefix(c.url); got != c.want {
			t.Errorf("ServedPrefix(%q): got %q, want %q", c.url, got, c.want)
		}
	}
}
