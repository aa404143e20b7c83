package grant

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseResponse feeds arbitrary token endpoint answers (status, content
// type, body) to ParseResponse. It must never panic, and its result must be
// usable: either a token with an access token, or a *TokenError whose
// message stays one bounded line. The seed corpus in
// testdata/fuzz/FuzzParseResponse holds real answers of the seed providers
// plus the broken ones the fault tests use.
func FuzzParseResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"access_token":"at","token_type":"bearer","expires_in":3600,"created_at":1700000000,"refresh_token":"rt"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"at","scope":["read","write"],"expires_in":"60"}`))
	f.Add(200, "application/x-www-form-urlencoded", []byte(`access_token=at&scope=a,b&expires_in=5`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"expired"}`))
	f.Add(502, "text/html", []byte("<html>\n<head><title>502 Bad Gateway</title></head>\n</html>"))
	f.Add(200, "application/json", []byte(`{"access_token":"at","expires_in":1e400}`))
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		tok, err := ParseResponse("https://auth.example.test/token", status, contentType, body, now)
		if err != nil {
			if tok != nil {
				t.Fatalf("got token %+v with error %v, want one of them", tok, err)
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("got error of type %T, want *TokenError", err)
			}
			if utf8.RuneCountInString(te.Body) > 121 || strings.Contains(te.Body, "\n") {
				t.Fatalf("quoted body is not one bounded line: %q", te.Body)
			}
			_ = err.Error()
			_ = te.Temporary()
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("HTTP %d parsed as success", status)
		}
		if tok == nil || tok.AccessToken == "" {
			t.Fatalf("got success without an access token: %+v", tok)
		}
		if tok.TokenType == "" {
			t.Fatal("token_type not normalised")
		}
		if tok.Expiry.IsZero() {
			t.Fatal("expiry not set")
		}
		// Without created_at the lifetime counts from now: a huge expires_in
		// must not wrap around into the past (the token would never be fresh).
		if !bytes.Contains(body, []byte("created_at")) && tok.Expiry.Before(now) {
			t.Fatalf("expiry %s is before now %s", tok.Expiry, now)
		}
		if tok.ExpiryGuessed && !tok.Expiry.Equal(now.Add(DefaultLifetime)) {
			t.Fatalf("guessed expiry %s, want now + %s", tok.Expiry, DefaultLifetime)
		}
	})
}
