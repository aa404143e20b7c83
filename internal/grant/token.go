// Package grant speaks to OAuth 2.0 token endpoints: one file per grant type,
// plus the wire dialects (form, JSON, multipart) the seed APIs need. Grants
// return tokens; the engine stores them.
package grant

import (
	"fmt"
	"strings"
	"time"
)

// Token is a token endpoint's answer, normalised.
type Token struct {
	AccessToken  string
	TokenType    string // "Bearer" whatever case the server used
	RefreshToken string
	IDToken      string
	Expiry       time.Time
	// ExpiryGuessed is set when the server sent neither expires_in nor an
	// expiry, and Expiry is DefaultLifetime from now.
	ExpiryGuessed bool
	Scope         []string
	// State is opaque refresh state returned by plugin grants.
	State string
	// IssuedTokenType is a token exchange's issued_token_type (RFC 8693
	// §2.2.1), e.g. urn:ietf:params:oauth:token-type:access_token.
	IssuedTokenType string
}

// DefaultLifetime is assumed for tokens whose response says nothing about
// their lifetime: short, so a revoked token is not used for long.
const DefaultLifetime = 5 * time.Minute

// check validates the values tools receive before anything is stored or
// printed: access, refresh and ID tokens and token_type must be printable
// ASCII without spaces (RFC 6749 Appendix A, RFC 6750 b64token). A newline
// in a token would add a variable to lanyard token --format env, or a
// header to --format header. The error names the field, never its value.
func (t *Token) check() error {
	for _, f := range []struct{ name, v string }{
		{"access_token", t.AccessToken}, {"token_type", t.TokenType},
		{"refresh_token", t.RefreshToken}, {"id_token", t.IDToken},
	} {
		if i := strings.IndexFunc(f.v, func(r rune) bool { return r < 0x21 || r > 0x7e }); i >= 0 {
			return fmt.Errorf("%s has a character that is not printable ASCII (at byte %d: %s), so the token was neither stored nor used", f.name, i, describeRune(f.v, i))
		}
	}
	return nil
}

func describeRune(s string, i int) string {
	switch r := []rune(s[i:])[0]; {
	case r == ' ':
		return "a space"
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("control character %#02x", r)
	default:
		return fmt.Sprintf("U+%04X", r)
	}
}
