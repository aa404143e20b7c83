package grant

import "context"

// Refresh exchanges a refresh token (RFC 6749 §6). Scope is not sent: the
// new token keeps the scope of the grant, and Shopware and Whiplash document
// refresh requests without it. A server that rotates refresh tokens returns
// a new one; Token.RefreshToken is empty when it did not.
func Refresh(ctx context.Context, c *Client, refreshToken string) (*Token, error) {
	return c.Exchange(ctx, Param{"grant_type", "refresh_token"}, Param{"refresh_token", refreshToken})
}
