package shared

import (
	"strings"
	"testing"
)

// TestDescribeHolder: the lock-wait error names the holder only when the
// lock value has lanyard's format (nonce host pid millis); anything else a
// Redis writer put there is "another process".
func TestDescribeHolder(t *testing.T) {
	tests := []struct{ v, want string }{
		{"0a1b2c3d4e5f60718293a4b5 build-7.example.com 4242 1700000000000", "build-7.example.com pid 4242"},
		{"0a1b2c3d4e5f60718293a4b5 evil\x1b]0;pwned\x07 42 1700000000000", "another process"},
		{"0a1b2c3d4e5f60718293a4b5 host\u202e 42 1700000000000", "another process"},
		{"nothex host 42 1700000000000", "another process"},
		{"0a1b2c3d4e5f60718293a4b5 host -1 1700000000000", "another process"},
		{"0a1b2c3d4e5f60718293a4b5 host 42 soon", "another process"},
		{"", "another process"},
	}
	for _, tt := range tests {
		if got := describeHolder(tt.v); got != tt.want {
			t.Errorf("describeHolder(%q) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if _, _, _, ok := parseOwner("0a1b2c3d4e5f60718293a4b5 " + strings.Repeat("h", 300) + " 1 1"); ok {
		t.Error("a 300-byte host name was accepted")
	}
}

// TestValidBy: a record's "by" is shown only in lanyard's "host pid N" form.
func TestValidBy(t *testing.T) {
	for v, want := range map[string]bool{
		"build-7.example.com pid 4242": true,
		"evil\x1b]0;x\x07 pid 1":       false,
		"host pid 12x":                 false,
		"host  pid 1":                  false,
		"":                             false,
	} {
		if got := validBy(v); got != want {
			t.Errorf("validBy(%q) = %v, want %v", v, got, want)
		}
	}
}
