package mcpauth

import "testing"

// FuzzParseChallenge: any header value parses without a panic.
func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer error="invalid_token", resource_metadata="https://x/.well-known/oauth-protected-resource"`)
	f.Add(`Basic realm="a", Bearer scope="a\"b`)
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = ParseChallenge(in)
	})
}
