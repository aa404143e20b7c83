// Package grant speaks to OAuth 2.0 token endpoints: one file per grant type,
// plus the wire dialects (form, JSON, multipart) the seed APIs need. Grants
// return tokens; the engine stores them.
package grant

import "time"

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
}

// DefaultLifetime is assumed for tokens whose response says nothing about
// their lifetime: short, so a revoked token is not used for long.
const DefaultLifetime = 5 * time.Minute
