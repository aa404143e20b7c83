package grant

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/oauth2"
)

// TestRefreshRefused states, once, which answers to a refresh prove the
// refresh token unusable, against the wording of each seed emulator
// (internal/testprovider), the reference OP, and two providers nobody here
// wrote (Dex v2.45.1, Ory Hydra v26.2.0).
func TestRefreshRefused(t *testing.T) {
	te := func(status int, code, desc string) error {
		return &TokenError{Endpoint: "https://idp.example/token", Status: status, Code: code, Description: desc}
	}
	tests := []struct {
		name string
		err  error
		want RefreshRefusal
	}{
		// RFC 6749 §5.2: invalid_grant is the token's death, whatever the text.
		{"whiplash reuse", te(400, "invalid_grant", "whiplash: refresh token already used; the whole grant is revoked, log in again"), RefreshDead},
		{"shopware reuse", te(400, "invalid_grant", "shopware: refresh token already used (it rotates on every use)"), RefreshDead},
		{"emulator unknown", te(400, "invalid_grant", "whenfresh: unknown refresh token"), RefreshDead},
		{"emulator revoked family", te(400, "invalid_grant", "whisk: refresh token revoked (its grant was revoked after a refresh token reuse)"), RefreshDead},
		{"reference OP", te(400, "invalid_grant", "refresh token already used or revoked"), RefreshDead},
		{"hydra", te(400, "invalid_grant", "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."), RefreshDead},
		{"invalid_grant without text", te(400, "invalid_grant", ""), RefreshDead},
		{"x/oauth2 RetrieveError", fmt.Errorf("refresh: %w", &oauth2.RetrieveError{ErrorCode: "invalid_grant"}), RefreshDead},
		// GitHub App user tokens: 200 with error bad_refresh_token.
		{"github", te(200, "bad_refresh_token", "The refresh token passed is incorrect or expired."), RefreshDead},
		// Dex answers a dead refresh token with invalid_request: the text,
		// not the code, says the token is gone.
		{"dex claimed", te(400, "invalid_request", "Refresh token is invalid or has already been claimed by another client."), RefreshSuspect},
		{"dex expired", te(400, "invalid_request", "Refresh token expired."), RefreshSuspect},
		{"invalid_token naming the refresh token", te(401, "invalid_token", "refresh_token revoked"), RefreshSuspect},
		// Not about the token: keep it, send it again later.
		{"dex no token in request", te(400, "invalid_request", "No refresh token is found in request."), RefreshNotRefused},
		{"invalid_request other", te(400, "invalid_request", "missing parameter client_id"), RefreshNotRefused},
		{"invalid_client", te(401, "invalid_client", "client authentication failed; the refresh token is invalid for it"), RefreshNotRefused},
		{"invalid_scope", te(400, "invalid_scope", "scope exceeds the refresh token's grant"), RefreshNotRefused},
		{"server error", te(500, "server_error", "refresh token store is down"), RefreshNotRefused},
		{"rate limited", te(429, "", ""), RefreshNotRefused},
		{"transport", &TokenError{Endpoint: "https://idp.example/token", Err: errors.New("connection refused")}, RefreshNotRefused},
		{"not a token error", errors.New("refresh token invalid"), RefreshNotRefused},
		{"nil", nil, RefreshNotRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RefreshRefused(tt.err); got != tt.want {
				t.Errorf("RefreshRefused(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
