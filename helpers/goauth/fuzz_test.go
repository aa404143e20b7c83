package goauth

import (
	"strings"
	"testing"
)

// FuzzParseRefused: any input parses without panic, and no parsed value
// holds a line break.
func FuzzParseRefused(f *testing.F) {
	for _, s := range []string{
		"",
		"HTTP/1.1 401 Unauthorized\nContent-Length: 19\nWww-Authenticate: Bearer realm=\"x\"\n\n",
		"HTTP/2.0 404 Not Found\r\nX: 1\r\n\r\nY: 2\n",
		"HTTP/1.1 4011\n::\n",
		"\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRefused(data)
		if err != nil {
			return
		}
		for _, h := range append(r.Header, [2]string{r.Proto, ""}) {
			if strings.ContainsAny(h[0]+h[1], "\n") {
				t.Fatalf("value %q holds a newline", h)
			}
		}
	})
}

// FuzzFormat: whatever prefix and token, the output is either refused or
// exactly one credential set of four lines whose prefix line is the prefix:
// no input forges a second set or header.
func FuzzFormat(f *testing.F) {
	f.Add("https://proxy.example.com/private/", "tok")
	f.Add("https://a/\n\nhttps://b/", "x\ny")
	f.Add("https://a/", "x\r\nEvil: 1")
	f.Fuzz(func(t *testing.T, prefix, token string) {
		out, err := Format([]CredentialSet{Bearer(prefix, token)})
		if err != nil {
			return
		}
		want := prefix + "\n\nAuthorization: Bearer " + token + "\n\n"
		if string(out) != want || strings.Count(string(out), "\n") != 4 {
			t.Fatalf("got %q for prefix %q token %q", out, prefix, token)
		}
	})
}
