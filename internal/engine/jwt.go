package engine

import (
	"time"

	"github.com/lanyardhq/lanyard/internal/grant"
)

// jwtExpiry reads the exp claim of a JWT without verifying it: lanyard only
// needs to know when to stop handing an ID token out; the API verifies it.
func jwtExpiry(tok string) time.Time {
	exp, _ := grant.JWTExpiry(tok)
	return exp
}
