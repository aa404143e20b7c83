package grant

import (
	"context"
	"time"
)

// Implicit runs the implicit grant (RFC 6749 §4.2, Whisk response_type=
// token): the access token comes back in the redirect's URL fragment, which
// the loopback listener's page posts back with a few lines of script, or
// the person pastes. No token endpoint and no refresh token: when the token
// expires the person logs in again. PKCE does not apply; state does.
func Implicit(ctx context.Context, c *Client, r AuthCodeRequest, in Interaction) (*Token, error) {
	rd, _, err := authorize(ctx, c.ClientID, r, in, "token")
	if err != nil {
		return nil, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	// The fragment is application/x-www-form-urlencoded (RFC 6749 §4.2.2),
	// the form ParseResponse already reads: same expires_in and scope rules.
	params := rd.Params
	params.Del("state")
	t, err := ParseResponse(r.AuthURL, 200, "application/x-www-form-urlencoded", []byte(params.Encode()), now())
	if err != nil {
		return nil, err
	}
	t.RefreshToken = "" // RFC 6749 §4.2.2: never issued here; do not keep one that slipped in
	return t, nil
}
