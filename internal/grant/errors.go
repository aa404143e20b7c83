package grant

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// TokenError is a token endpoint's refusal or an answer lanyard cannot use.
// It keeps what the server said (RFC 6749 §5.2) so the engine can decide
// what the user must do.
type TokenError struct {
	Endpoint    string
	Status      int    // HTTP status, 0 for transport errors
	Code        string // RFC 6749 "error", e.g. invalid_grant
	Description string // "error_description"
	URI         string // "error_uri"
	// Body is the first line of a body that was not an OAuth error document.
	Body string
	Err  error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token endpoint %s", e.Endpoint)
	if e.Status != 0 {
		fmt.Fprintf(&b, " answered HTTP %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", Printable(e.Code))
		if e.Description != "" {
			fmt.Fprintf(&b, ": %s", Printable(e.Description))
		}
		if e.URI != "" {
			fmt.Fprintf(&b, " (see %s)", Printable(e.URI))
		}
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

// Temporary reports whether retrying later may succeed: 5xx, 429, transport
// errors. An untrusted or mismatched certificate is not: retrying only
// repeats the handshake.
func (e *TokenError) Temporary() bool {
	var cert *tls.CertificateVerificationError
	if errors.As(e.Err, &cert) {
		return false
	}
	return e.Status == 429 || e.Status >= 500 || (e.Status == 0 && e.Err != nil)
}

// AsTokenError returns err as a *TokenError, converting x/oauth2's
// RetrieveError so callers check one type.
func AsTokenError(err error) (*TokenError, bool) {
	var te *TokenError
	if errors.As(err, &te) {
		return te, true
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te = &TokenError{Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
			te.Endpoint = re.Response.Request.URL.String()
		}
		if te.Code == "" {
			te.Body = firstLine(string(re.Body))
		}
		return te, true
	}
	return nil, false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// bodyLine is what an error may show of a response body: its first line,
// unless the body may carry credentials (it names a token field, or it is
// a successful answer that starts like JSON, such as a truncated token
// response). Those are summarised by size: errors reach stderr and logs.
func bodyLine(status int, body string) string {
	line := firstLine(body)
	for _, field := range []string{"access_token", "refresh_token", "id_token", "device_code"} {
		if strings.Contains(body, field) {
			return fmt.Sprintf("(%d bytes, not shown: they may hold credentials)", len(body))
		}
	}
	if status >= 200 && status <= 299 && strings.HasPrefix(strings.TrimSpace(body), "{") {
		return fmt.Sprintf("(%d bytes, not shown: they may hold credentials)", len(body))
	}
	return line
}

// Printable strips what a server could use to take over a terminal from
// text it sent (error_description, verification_uri, messages): control
// characters (C0, DEL, C1: escape sequences that retitle a terminal or
// rewrite what is shown) and bidirectional overrides. Everything lanyard
// prints that a server wrote goes through it.
func Printable(s string) string {
	if strings.IndexFunc(s, unprintable) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unprintable(r) {
			return -1
		}
		return r
	}, s)
}

func unprintable(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError
}
