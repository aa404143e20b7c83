package grant

import "strings"

// RefreshRefusal is what a token endpoint's refusal of a refresh proves
// about the refresh token that was sent.
type RefreshRefusal int

const (
	// RefreshNotRefused: the answer says nothing about the refresh token
	// (a transient failure, the client's settings, the scope): keep it and
	// send it again later.
	RefreshNotRefused RefreshRefusal = iota
	// RefreshDead: the server said the token is dead (RFC 6749 §5.2
	// invalid_grant: "invalid, expired, revoked, ... or was issued to
	// another client"). Drop it; only a login helps.
	RefreshDead
	// RefreshSuspect: the server used another code, but its text says the
	// refresh token itself is unusable (Dex v2.45: 400 invalid_request
	// "Refresh token is invalid or has already been claimed by another
	// client."). Only a login helps, but the answer is not the standard
	// one: keep the token, marked, and do not send it again until a login.
	RefreshSuspect
)

func (r RefreshRefusal) String() string {
	switch r {
	case RefreshDead:
		return "dead"
	case RefreshSuspect:
		return "suspect"
	}
	return "not refused"
}

// RefreshRefused decides, for every path that sends a refresh token (the
// engine's refresh, login --refresh-token-stdin, the shared tier), whether
// err proves the refresh token unusable. It is the one place this rule
// lives.
func RefreshRefused(err error) RefreshRefusal {
	te, ok := AsTokenError(err)
	if !ok || te.Temporary() {
		return RefreshNotRefused
	}
	switch te.Code {
	case "invalid_grant":
		return RefreshDead
	case "bad_refresh_token":
		// GitHub App user tokens: HTTP 200 with error bad_refresh_token
		// ("The refresh token passed is incorrect or expired.").
		return RefreshDead
	case "invalid_request", "invalid_token":
		// Dex answers invalid_request to a used, revoked or expired refresh
		// token ("Refresh token is invalid or has already been claimed by
		// another client.", "Refresh token expired."), but also to a request
		// without one ("No refresh token is found in request."): only a text
		// that names the refresh token and says what is wrong with it counts.
		if namesDeadRefreshToken(te.Description) {
			return RefreshSuspect
		}
	}
	return RefreshNotRefused
}

func namesDeadRefreshToken(desc string) bool {
	d := strings.ToLower(strings.ReplaceAll(desc, "_", " "))
	if !strings.Contains(d, "refresh token") {
		return false
	}
	for _, w := range []string{"invalid", "expired", "claimed", "revoked", "already used", "not valid", "unknown"} {
		if strings.Contains(d, w) {
			return true
		}
	}
	return false
}
