package engine

import (
	"regexp"
	"strings"
	"testing"
)

// TestPlainNameMatchesRegexp: the hand-written check accepts exactly what
// the regexp it replaced accepted.
func TestPlainNameMatchesRegexp(t *testing.T) {
	oracle := regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	cases := []string{"", "p", "whisk", "a.b_c-d", "..", "a b", "é", "a/b", "a\x00", strings.Repeat("x", 64), strings.Repeat("x", 65), "UPPER09"}
	for c := 0; c < 256; c++ {
		cases = append(cases, "a"+string(rune(c)), string([]byte{byte(c)}))
	}
	for _, s := range cases {
		if got, want := plainName(s), oracle.MatchString(s); got != want {
			t.Errorf("plainName(%q) = %v, want %v", s, got, want)
		}
	}
}
