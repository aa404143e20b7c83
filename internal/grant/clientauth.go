package grant

import (
	"context"
	"fmt"
)

// Client authentication methods (Client.ClientAuth).
const (
	// AuthBasic sends id and secret in the Authorization header (RFC 6749 §2.3.1).
	AuthBasic = "basic"
	// AuthPost sends id and secret in the body.
	AuthPost = "post"
	// AuthNone is a public client: client_id in the body.
	AuthNone = "none"
	// AuthPrivateKeyJWT signs a fresh assertion per request (RFC 7523 §2.2,
	// OpenID Connect Core §9).
	AuthPrivateKeyJWT = "private_key_jwt"
	// AuthClientAssertion sends a federated token from a CI platform as the
	// client's assertion (as Entra ID federated credentials expect).
	AuthClientAssertion = "client_assertion"
	// AuthTLS and AuthSelfSignedTLS authenticate with the TLS client
	// certificate (RFC 8705 §2.1, §2.2); the body carries client_id.
	AuthTLS           = "tls_client_auth"
	AuthSelfSignedTLS = "self_signed_tls_client_auth"
)

// ClientAssertionType is the client_assertion_type of RFC 7523 §2.2.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Assertion produces a client assertion for one request. aud is the
// audience the server expects (its token endpoint or issuer); federated
// sources ignore it, their platform chose it.
type Assertion interface {
	Assertion(ctx context.Context, aud string) (string, error)
}

// IsTLSAuth reports whether method authenticates with a client certificate.
func IsTLSAuth(method string) bool { return method == AuthTLS || method == AuthSelfSignedTLS }

// authParams returns the body parameters that authenticate the client;
// "basic" goes in the header instead (newRequest). Assertions are made per
// request: each carries a fresh jti and a short exp, and none is kept.
func (c *Client) authParams(ctx context.Context) ([]Param, error) {
	switch c.ClientAuth {
	case AuthPost:
		return []Param{{"client_id", c.ClientID}, {"client_secret", c.ClientSecret}}, nil
	case AuthNone, AuthTLS, AuthSelfSignedTLS:
		// RFC 8705 §2: client_id identifies the client whose certificate
		// is presented.
		return []Param{{"client_id", c.ClientID}}, nil
	case AuthPrivateKeyJWT, AuthClientAssertion:
		if c.Assertion == nil {
			return nil, fmt.Errorf("client_auth %s: no assertion source configured", c.ClientAuth)
		}
		aud := c.AssertionAudience
		if aud == "" {
			aud = c.TokenURL
		}
		a, err := c.Assertion.Assertion(ctx, aud)
		if err != nil {
			return nil, err
		}
		return []Param{{"client_id", c.ClientID}, {"client_assertion_type", ClientAssertionType}, {"client_assertion", a}}, nil
	}
	return nil, nil
}

// withClientAuth drops empty params and adds the client's authentication.
func (c *Client) withClientAuth(ctx context.Context, params []Param) ([]Param, error) {
	auth, err := c.authParams(ctx)
	if err != nil {
		return nil, err
	}
	var body []Param
	for _, p := range append(params, auth...) {
		if p.Value != "" {
			body = append(body, p)
		}
	}
	return body, nil
}
