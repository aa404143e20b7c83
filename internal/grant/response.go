package grant

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// rawResponse is a token response as servers really send it.
type rawResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	RefreshToken string          `json:"refresh_token"`
	IDToken      string          `json:"id_token"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	CreatedAt    json.RawMessage `json:"created_at"`
	Scope        json.RawMessage `json:"scope"`
	// RFC 8693 §2.2.1: what a token exchange issued.
	IssuedTokenType string `json:"issued_token_type"`
	Error           string `json:"error"`
	ErrorDesc       string `json:"error_description"`
	ErrorURI        string `json:"error_uri"`
}

// ParseResponse turns a token endpoint's HTTP answer into a Token or a
// *TokenError. It is pure: no I/O, time comes from now.
func ParseResponse(endpoint string, status int, contentType string, body []byte, now time.Time) (*Token, error) {
	var r rawResponse
	jsonErr := json.Unmarshal(body, &r)
	if jsonErr != nil {
		// RFC 6749 says JSON, but some servers (GitHub without Accept)
		// answer application/x-www-form-urlencoded, as x/oauth2 accepts.
		mt, _, _ := mime.ParseMediaType(contentType)
		if mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
			if v, err := url.ParseQuery(string(body)); err == nil && (v.Get("access_token") != "" || v.Get("error") != "") {
				r = rawResponse{AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"), RefreshToken: v.Get("refresh_token"),
					IDToken: v.Get("id_token"), Error: v.Get("error"), ErrorDesc: v.Get("error_description"), ErrorURI: v.Get("error_uri")}
				if e := v.Get("expires_in"); e != "" {
					r.ExpiresIn = json.RawMessage(strconv.Quote(e))
				}
				if s := v.Get("scope"); s != "" {
					r.Scope = json.RawMessage(strconv.Quote(s))
				}
				jsonErr = nil
			}
		}
	}
	if status < 200 || status > 299 {
		te := &TokenError{Endpoint: endpoint, Status: status}
		if jsonErr == nil && r.Error != "" {
			te.Code, te.Description, te.URI = r.Error, r.ErrorDesc, r.ErrorURI
		} else {
			te.Body = bodyLine(status, string(body))
		}
		return nil, te
	}
	if jsonErr != nil {
		what := "is not JSON"
		if strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
			what = "is not valid JSON (" + jsonErr.Error() + ")"
		}
		return nil, &TokenError{Endpoint: endpoint, Status: status, Body: bodyLine(status, string(body)), Err: fmt.Errorf("response body %s", what)}
	}
	// x/oauth2 internal/token.go: a 200 carrying "error" is a failure.
	if r.Error != "" {
		return nil, &TokenError{Endpoint: endpoint, Status: status, Code: r.Error, Description: r.ErrorDesc, URI: r.ErrorURI}
	}
	if r.AccessToken == "" {
		return nil, &TokenError{Endpoint: endpoint, Status: status, Err: fmt.Errorf("response has no access_token")}
	}
	t := &Token{AccessToken: r.AccessToken, TokenType: normalizeType(r.TokenType), RefreshToken: r.RefreshToken, IDToken: r.IDToken, IssuedTokenType: r.IssuedTokenType}
	exp, err := seconds("expires_in", r.ExpiresIn)
	if err != nil {
		return nil, &TokenError{Endpoint: endpoint, Status: status, Err: err}
	}
	created, err := seconds("created_at", r.CreatedAt)
	if err != nil {
		return nil, &TokenError{Endpoint: endpoint, Status: status, Err: err}
	}
	// A server's "never expires" (expires_in of centuries) is capped so that
	// the Duration arithmetic below cannot wrap around into the past.
	exp = min(exp, int64(maxLifetime/time.Second))
	switch {
	case exp > 0 && created > 0:
		// Whiplash: the lifetime counts from created_at, not from receipt.
		t.Expiry = time.Unix(created, 0).Add(time.Duration(exp) * time.Second)
	case exp > 0:
		t.Expiry = now.Add(time.Duration(exp) * time.Second)
	default:
		t.Expiry = now.Add(DefaultLifetime)
		t.ExpiryGuessed = true
	}
	t.Scope, err = parseScope(r.Scope)
	if err != nil {
		return nil, &TokenError{Endpoint: endpoint, Status: status, Err: err}
	}
	if err := t.check(); err != nil {
		return nil, &TokenError{Endpoint: endpoint, Status: status, Err: err}
	}
	return t, nil
}

// maxLifetime caps expires_in: far longer than any real token lives, far
// shorter than time.Duration's range.
const maxLifetime = 100 * 365 * 24 * time.Hour

// normalizeType maps any case of "bearer" (Whiplash sends lowercase) to
// "Bearer"; RFC 6749 §5.1 says token_type is case-insensitive.
func normalizeType(s string) string {
	if s == "" || strings.EqualFold(s, "bearer") {
		return "Bearer"
	}
	return s
}

// seconds reads a JSON number, or a string holding one (at least PayPal
// sends expires_in as a string, as x/oauth2 notes).
func seconds(name string, raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		if f, err := n.Float64(); err == nil {
			return int64(f), nil
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("response field %s is %s, not a number of seconds", name, firstLine(string(raw)))
}

// parseScope accepts a space- or comma-separated string (RFC 6749) or a
// JSON array (Whisk).
func parseScope(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var arr []string
	if err := json.Unmarshal(raw, &arr); err == nil {
		return arr, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("response field scope is %s, neither a string nor an array of strings", firstLine(string(raw)))
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }), nil
}
