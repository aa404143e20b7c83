package grant

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Revoke asks the server to revoke token (RFC 7009) at revocationURL, with
// the client's authentication and body dialect. hint is "refresh_token" or
// "access_token". RFC 7009 §2.2: 200 whether or not the token was valid.
func (c *Client) Revoke(ctx context.Context, revocationURL, token, hint string) error {
	// Assertions keep their audience: the token endpoint (RFC 7523 §3) or
	// the issuer, not the revocation endpoint.
	body, err := c.withClientAuth(ctx, []Param{{"token", token}, {"token_type_hint", hint}})
	rc := *c
	rc.TokenURL = revocationURL
	if err != nil {
		return err
	}
	req, err := rc.newRequest(ctx, body)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return &TokenError{Endpoint: revocationURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return &TokenError{Endpoint: revocationURL, Status: resp.StatusCode, Body: bodyLine(resp.StatusCode, string(data)), Err: fmt.Errorf("revoking the %s failed", hint)}
	}
	return nil
}
