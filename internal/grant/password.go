package grant

import "context"

// Password runs the resource owner password grant (RFC 6749 §4.3), as
// Shopware's administration client uses it. The password is sent once and
// never stored.
func Password(ctx context.Context, c *Client, username, password string, scopes []string) (*Token, error) {
	return c.Exchange(ctx, Param{"grant_type", "password"}, Param{"username", username}, Param{"password", password}, c.scope(scopes))
}
