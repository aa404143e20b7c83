package grant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/backchannel"
)

// Param is one request parameter; order is kept so bodies are deterministic.
type Param struct{ Key, Value string }

// Client posts grant requests to one token endpoint in one dialect.
type Client struct {
	HTTP         *http.Client
	TokenURL     string
	ClientID     string
	ClientSecret string
	// ClientAuth is one of the Auth* methods (clientauth.go).
	ClientAuth string
	// Assertion signs or fetches the client assertion for private_key_jwt
	// and client_assertion.
	Assertion Assertion
	// AssertionAudience is the aud of signed assertions: "" means TokenURL
	// (RFC 7523 §3), else the issuer. Revocation keeps it.
	AssertionAudience string
	// Dialect is form (RFC 6749), json (Shopware) or multipart (Whisk's
	// code exchange, curl -F).
	Dialect        string
	ScopeParam     string // "scope"; Shopware: "scopes"
	ScopeSeparator string // " " or ","
	TokenParams    map[string]string
	// Resource are RFC 8707 resource indicators added to every token
	// request that does not carry its own (token exchange does).
	Resource []string
	Now      func() time.Time
	Log      *slog.Logger
	// Attempts is how many times a temporary failure (5xx, 429, network)
	// is tried in all; 0 means 3.
	Attempts int
	// Sleep waits between attempts; nil uses a timer that respects ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// maxBody bounds what is read from a token endpoint (as x/oauth2: 1 MiB).
const maxBody = 1 << 20

// Scope joins scopes for the request, or "" when there are none.
func (c *Client) scope(scopes []string) Param {
	sep := c.ScopeSeparator
	if sep == "" {
		sep = " "
	}
	name := c.ScopeParam
	if name == "" {
		name = "scope"
	}
	return Param{name, strings.Join(scopes, sep)}
}

// Exchange posts a grant request with params (grant_type first) and returns
// the parsed token. Client authentication and token_params are added here.
func (c *Client) Exchange(ctx context.Context, params ...Param) (*Token, error) {
	for _, k := range slices.Sorted(maps.Keys(c.TokenParams)) {
		params = append(params, Param{k, c.TokenParams[k]})
	}
	if !slices.ContainsFunc(params, func(p Param) bool { return p.Key == "resource" }) {
		for _, r := range c.Resource {
			params = append(params, Param{"resource", r})
		}
	}
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var err error
	for i := 0; i < attempts; i++ {
		// Each attempt authenticates anew: a server may refuse a replayed
		// assertion jti.
		var body []Param
		body, err = c.withClientAuth(ctx, params)
		if err != nil {
			return nil, err
		}
		var tok *Token
		var wait time.Duration
		tok, wait, err = c.post(ctx, body)
		if err == nil {
			return tok, nil
		}
		te, ok := err.(*TokenError)
		if !ok || !te.Temporary() || i == attempts-1 || ctx.Err() != nil {
			break
		}
		if wait == 0 {
			wait = time.Duration(500<<i) * time.Millisecond
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break
		}
		c.logf("token endpoint failed, retrying", "in", wait, "err", err)
		if serr := c.sleep(ctx, wait); serr != nil {
			break
		}
	}
	return nil, err
}

func (c *Client) post(ctx context.Context, params []Param) (*Token, time.Duration, error) {
	req, err := c.newRequest(ctx, params)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, 0, &TokenError{Endpoint: c.TokenURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, &TokenError{Endpoint: c.TokenURL, Err: fmt.Errorf("reading response: %w", err)}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	tok, err := ParseResponse(c.TokenURL, resp.StatusCode, resp.Header.Get("Content-Type"), data, now())
	return tok, retryAfter(resp.Header.Get("Retry-After"), now()), err
}

func (c *Client) newRequest(ctx context.Context, params []Param) (*http.Request, error) {
	var body io.Reader
	var ctype string
	switch c.Dialect {
	case "json":
		// Shopware: every value is a JSON string.
		var b bytes.Buffer
		b.WriteByte('{')
		for i, p := range params {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(p.Key)
			v, _ := json.Marshal(p.Value)
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		body, ctype = &b, "application/json"
	case "multipart":
		// Whisk: curl -F, multipart/form-data.
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for _, p := range params {
			if err := w.WriteField(p.Key, p.Value); err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		body, ctype = &b, w.FormDataContentType()
	default:
		v := make([]string, 0, len(params))
		for _, p := range params {
			v = append(v, url.QueryEscape(p.Key)+"="+url.QueryEscape(p.Value))
		}
		body, ctype = strings.NewReader(strings.Join(v, "&")), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, body)
	if err != nil {
		return nil, fmt.Errorf("token endpoint %q: %w", c.TokenURL, err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	if c.ClientAuth == AuthBasic {
		// RFC 6749 §2.3.1: form-encode id and secret before Basic.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	return req, nil
}

// retryAfter reads Retry-After as seconds or an HTTP date, capped at 30 s.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		d = 0
	}
	return min(d, 30*time.Second)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) logf(msg string, args ...any) {
	if c.Log != nil {
		c.Log.Debug(msg, args...)
	}
}

// httpClient is c.HTTP with redirects off: token, device and revocation
// requests carry secrets, and a 307/308 would resend them to the Location.
func (c *Client) httpClient() *http.Client { return backchannel.NoRedirects(c.HTTP) }

// unwrapURLError drops *url.Error's "Post URL:" prefix; TokenError names the endpoint.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timed out: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}
