package grant

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidPluginNameMatchesRegexp: the hand-written check accepts exactly
// what the regexp it replaced accepted.
func TestValidPluginNameMatchesRegexp(t *testing.T) {
	oracle := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	cases := []string{"", "a", "github-app", ".hidden", "-x", "_x", "a..b", "a/b", "../x", "a b", "é", strings.Repeat("x", 64), strings.Repeat("x", 65)}
	for c := 0; c < 256; c++ {
		cases = append(cases, "a"+string([]byte{byte(c)}), string([]byte{byte(c)}), string([]byte{byte(c)})+"a")
	}
	for _, s := range cases {
		if got, want := validPluginName(s), oracle.MatchString(s); got != want {
			t.Errorf("validPluginName(%q) = %v, want %v", s, got, want)
		}
	}
}
