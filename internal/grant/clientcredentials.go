package grant

import "context"

// ClientCredentials runs the client credentials grant (RFC 6749 §4.4).
func ClientCredentials(ctx context.Context, c *Client, scopes []string) (*Token, error) {
	return c.Exchange(ctx, Param{"grant_type", "client_credentials"}, c.scope(scopes))
}
