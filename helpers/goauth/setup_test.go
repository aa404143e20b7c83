package goauth

import "testing"

func TestWithLanyard(t *testing.T) {
	for _, c := range []struct {
		was, want string
		changed   bool
	}{
		{"", "lanyard goauth;netrc", true},
		{"netrc", "lanyard goauth;netrc", true},
		{"off", "lanyard goauth", true},
		{"git /src/x;netrc", "lanyard goauth;git /src/x;netrc", true},
		{"netrc;lanyard goauth", "lanyard goauth;netrc", true},
		{"lanyard goauth;netrc", "lanyard goauth;netrc", false},
		{"lanyard goauth", "lanyard goauth", false},
		{"/usr/local/bin/lanyard goauth;netrc", "lanyard goauth;netrc", true},
		{"mytool auth; netrc ;", "lanyard goauth;mytool auth;netrc", true},
	} {
		got, changed := WithLanyard(c.was)
		if got != c.want || changed != c.changed {
			t.Errorf("WithLanyard(%q): got %q %v, want %q %v", c.was, got, changed, c.want, c.changed)
		}
	}
}
