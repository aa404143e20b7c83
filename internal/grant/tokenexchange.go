package grant

import "context"

// Token exchange identifiers (RFC 8693 §2.1, §3).
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
)

// TokenExchangeRequest is one RFC 8693 §2.1 request. Empty fields are not sent.
type TokenExchangeRequest struct {
	SubjectToken, SubjectTokenType string
	ActorToken, ActorTokenType     string
	RequestedTokenType             string
	Audience                       string
	Resource                       []string
	Scopes                         []string
}

// TokenExchange trades the subject token (and actor token, for delegation)
// for a new token. Token.IssuedTokenType says what was issued; RFC 8693
// §2.2.1 lets token_type be "N_A" when it is not an access token.
func TokenExchange(ctx context.Context, c *Client, r TokenExchangeRequest) (*Token, error) {
	params := []Param{
		{"grant_type", GrantTypeTokenExchange},
		{"subject_token", r.SubjectToken}, {"subject_token_type", r.SubjectTokenType},
		{"requested_token_type", r.RequestedTokenType},
		{"audience", r.Audience},
	}
	for _, res := range r.Resource {
		params = append(params, Param{"resource", res})
	}
	if r.ActorToken != "" {
		params = append(params, Param{"actor_token", r.ActorToken}, Param{"actor_token_type", r.ActorTokenType})
	}
	t, err := c.Exchange(ctx, append(params, c.scope(r.Scopes))...)
	if err == nil && t.TokenType == "N_A" {
		// RFC 8693 §2.2.1: the issued token is not an OAuth access token
		// (an ID token, a JWT for another system); the profile asked for
		// it, and tools present it as a bearer credential.
		t.TokenType = "Bearer"
	}
	return t, err
}
