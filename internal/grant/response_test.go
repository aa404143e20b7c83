package grant

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var now = time.Unix(1700000000, 0)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		file    string
		want    Token
		guessed bool
	}{
		// Whiplash: lowercase bearer, lifetime counted from created_at.
		{"whiplash.json", Token{AccessToken: "ddb8c266333a19", TokenType: "Bearer", RefreshToken: "8c488ab5f75d61", Expiry: time.Unix(1510698627+7200, 0), Scope: []string{"user_manage"}}, false},
		// Whisk: scope is a JSON array.
		{"whisk.json", Token{AccessToken: "Xb609ErrcoRNwll9", TokenType: "Bearer", RefreshToken: "oS1437tty6buHTef", Expiry: now.Add(2592000 * time.Second), Scope: []string{"cookbook:write"}}, false},
		// WhenFresh: id_token beside the access token.
		{"whenfresh.json", Token{AccessToken: "wf-access", TokenType: "Bearer", IDToken: "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDM2MDB9.", Expiry: now.Add(time.Hour)}, false},
		{"shopware.json", Token{AccessToken: "sw-access", TokenType: "Bearer", RefreshToken: "sw-refresh", Expiry: now.Add(600 * time.Second)}, false},
		// PayPal-style expires_in as a string of digits.
		{"paypal.json", Token{AccessToken: "pp", TokenType: "Bearer", Expiry: now.Add(32400 * time.Second), Scope: []string{"a", "b"}}, false},
		{"nolifetime.json", Token{AccessToken: "x", TokenType: "mac", Expiry: now.Add(DefaultLifetime), ExpiryGuessed: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseResponse("https://as/token", 200, "application/json", body, now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Expiry.Equal(tt.want.Expiry) {
				t.Errorf("expiry: got %s, want %s", got.Expiry, tt.want.Expiry)
			}
			got.Expiry = tt.want.Expiry
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		ctype, body string
		want        []string
		code        string
		temporary   bool
	}{
		{"oauth error", 400, "application/json", `{"error":"invalid_grant","error_description":"refresh token revoked"}`, []string{"HTTP 400", "invalid_grant: refresh token revoked"}, "invalid_grant", false},
		{"200 carrying error", 200, "application/json", `{"error":"invalid_client"}`, []string{"invalid_client"}, "invalid_client", false},
		{"html 502", 502, "text/html", "<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>", []string{"HTTP 502", `"<html><head><title>502 Bad Gateway</title></head>"`}, "", true},
		{"html 200", 200, "text/html", "<!DOCTYPE html>\n<p>login</p>", []string{"is not JSON", `"<!DOCTYPE html>"`}, "", false},
		{"truncated json", 200, "application/json", `{"access_token":"abc","expires_in":36`, []string{"not valid JSON", "not shown"}, "", false},
		{"token in a text body", 200, "text/html", "access_token=sentinel-at&refresh_token=sentinel-rt", []string{"is not JSON", "not shown"}, "", false},
		{"no access_token", 200, "application/json", `{"token_type":"Bearer"}`, []string{"no access_token"}, "", false},
		{"expires_in words", 200, "application/json", `{"access_token":"a","expires_in":"an hour"}`, []string{"expires_in", "not a number of seconds"}, "", false},
		{"scope number", 200, "application/json", `{"access_token":"a","scope":42}`, []string{"scope"}, "", false},
		{"newline in access_token", 200, "application/json", `{"access_token":"sentinel\nLD_PRELOAD=/tmp/x.so","token_type":"Bearer"}`, []string{"access_token", "control character 0x0a", "neither stored nor used"}, "", false},
		{"space in access_token", 200, "application/json", `{"access_token":"sentinel x"}`, []string{"access_token", "a space"}, "", false},
		{"newline in token_type", 200, "application/json", `{"access_token":"sentinel","token_type":"Bearer\r\nX-Evil: 1"}`, []string{"token_type", "control character 0x0d"}, "", false},
		{"escape in refresh_token", 200, "application/json", `{"access_token":"sentinel","refresh_token":"sentinel\u001b]0;pwned\u0007"}`, []string{"refresh_token", "control character 0x1b"}, "", false},
		{"non-ASCII id_token", 200, "application/json", `{"access_token":"sentinel","id_token":"sentinel\u00e9"}`, []string{"id_token", "U+00E9"}, "", false},
		{"newline in a form answer", 200, "application/x-www-form-urlencoded", "access_token=sentinel%0Ax", []string{"access_token", "0x0a"}, "", false},
		{"429", 429, "application/json", `{"error":"slow_down"}`, []string{"HTTP 429"}, "slow_down", true},
		{"empty 500", 500, "", "", []string{"HTTP 500"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseResponse("https://as/token", tt.status, tt.ctype, []byte(tt.body), now)
			te, ok := AsTokenError(err)
			if !ok {
				t.Fatalf("got %v, want a *TokenError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "sentinel") || strings.Contains(err.Error(), `"abc"`) {
				t.Errorf("error %q shows a token", err)
			}
			if te.Code != tt.code || te.Temporary() != tt.temporary {
				t.Errorf("got code=%q temporary=%v, want %q %v", te.Code, te.Temporary(), tt.code, tt.temporary)
			}
		})
	}
}

func TestParseResponseForm(t *testing.T) {
	got, err := ParseResponse("https://github.com/login/oauth/access_token", 200, "application/x-www-form-urlencoded; charset=utf-8", []byte("access_token=gho_x&scope=repo%2Cgist&token_type=bearer"), now)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "gho_x" || got.TokenType != "Bearer" || !reflect.DeepEqual(got.Scope, []string{"repo", "gist"}) {
		t.Errorf("got %+v", got)
	}
}
