package grant

import "context"

// GrantTypeJWTBearer is the grant_type of RFC 7523 §2.1.
const GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// JWTBearer uses assertion as the authorization grant (RFC 7523 §2.1): the
// token's subject gets the access token. The client authenticates as
// configured (often not at all, §3.1 makes it optional).
func JWTBearer(ctx context.Context, c *Client, assertion string, scopes []string) (*Token, error) {
	return c.Exchange(ctx, Param{"grant_type", GrantTypeJWTBearer}, Param{"assertion", assertion}, c.scope(scopes))
}
