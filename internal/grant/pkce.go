package grant

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"golang.org/x/oauth2"
)

// NewVerifier returns a fresh PKCE code verifier (RFC 7636 §4.1): 32
// random octets, base64url-encoded to 43 characters, by x/oauth2's
// GenerateVerifier. It panics only if the system has no randomness.
func NewVerifier() string {
	v := oauth2.GenerateVerifier()
	if err := CheckVerifier(v); err != nil {
		panic(err) // x/oauth2 changed its generator: better loud than a login that fails at the server
	}
	return v
}

// CheckVerifier reports whether v is a valid PKCE code verifier: 43 to 128
// characters of [A-Z] [a-z] [0-9] "-" "." "_" "~" (RFC 7636 §4.1).
func CheckVerifier(v string) error {
	if len(v) < 43 || len(v) > 128 {
		return fmt.Errorf("PKCE code verifier has %d characters; RFC 7636 §4.1 wants 43 to 128", len(v))
	}
	for _, r := range v {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_', r == '~':
		default:
			return fmt.Errorf("PKCE code verifier contains %q; RFC 7636 §4.1 allows only unreserved characters", r)
		}
	}
	return nil
}

// S256Challenge is the S256 code_challenge of verifier (RFC 7636 §4.2).
func S256Challenge(verifier string) string { return oauth2.S256ChallengeFromVerifier(verifier) }

// newState returns an unguessable state value (RFC 6749 §10.12): 32 bytes
// from crypto/rand, base64url.
func newState() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
