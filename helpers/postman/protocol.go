// Package postman is lanyard serve: a token endpoint on 127.0.0.1 for
// Postman, newman and other GUI tools that cannot run a command, and the
// pre-request.js script that calls it.
//
// The protocol: GET /token/PROFILE with the header X-Lanyard-Key answers
// {"access_token","token_type","expires_at"}. Errors answer
// {"error","error_description"} with these statuses:
//
//	403 browser_request     an Origin header, or Sec-Fetch-Site other than none
//	403 bad_host            Host is not 127.0.0.1, localhost or [::1] (DNS rebinding)
//	405 method_not_allowed  not GET
//	401 bad_key             X-Lanyard-Key missing or wrong
//	404 not_found           a path other than /token/PROFILE, or an unknown profile
//	409 login_required      the profile needs lanyard login (serve never starts one)
//	500 config_error        the profiles file cannot be read
//	502 token_error         the token endpoint or keyring failed; the description says why
//
// No response other than the 200 carries a token, and every response says
// Cache-Control: no-store.
package postman

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"time"
)

// KeyHeader carries the serve key.
const KeyHeader = "X-Lanyard-Key"

// TokenPath is the prefix of the token URL: TokenPath + PROFILE.
const TokenPath = "/token/"

// Error codes of [ErrorResponse].
const (
	CodeBrowser       = "browser_request"
	CodeHost          = "bad_host"
	CodeMethod        = "method_not_allowed"
	CodeKey           = "bad_key"
	CodeNotFound      = "not_found"
	CodeLoginRequired = "login_required"
	CodeConfig        = "config_error"
	CodeToken         = "token_error"
)

// TokenResponse is the 200 answer, a stable contract for scripts.
type TokenResponse struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// ErrorResponse is every other answer, in the shape of RFC 6749 §5.2.
type ErrorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Refusal is why a request is refused before any profile is looked at.
type Refusal struct {
	Status int
	ErrorResponse
}

// Check applies the request checks that need no profile, in order: browser
// requests, Host, method, key. It returns nil when the request may go on.
// key is the serve key; the comparison takes the same time whatever the
// presented key is.
func Check(r *http.Request, key string) *Refusal {
	if r.Header.Get("Origin") != "" {
		return refuse(http.StatusForbidden, CodeBrowser, "requests from web pages (with an Origin header) are refused; call lanyard serve from Postman, newman or a script")
	}
	// A browser sends Sec-Fetch-Site on every request; "none" is a URL the
	// user typed, which cannot carry the key header anyway.
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "none" {
		return refuse(http.StatusForbidden, CodeBrowser, "requests from web pages (Sec-Fetch-Site: "+s+") are refused; call lanyard serve from Postman, newman or a script")
	}
	if !LoopbackHost(r.Host) {
		// DNS rebinding: a web page's own host name resolved to 127.0.0.1.
		return refuse(http.StatusForbidden, CodeHost, "the Host header must be 127.0.0.1, localhost or [::1] (a guard against DNS rebinding); use the URL lanyard serve printed")
	}
	if r.Method != http.MethodGet {
		return refuse(http.StatusMethodNotAllowed, CodeMethod, "only GET is served; use GET "+TokenPath+"PROFILE")
	}
	got := r.Header.Get(KeyHeader)
	if got == "" {
		return refuse(http.StatusUnauthorized, CodeKey, "the "+KeyHeader+" header is missing; send the key lanyard serve printed (also in its key file)")
	}
	if !KeyEqual(got, key) {
		return refuse(http.StatusUnauthorized, CodeKey, "the "+KeyHeader+" header is wrong; send the key lanyard serve printed (also in its key file)")
	}
	return nil
}

func refuse(status int, code, msg string) *Refusal {
	return &Refusal{Status: status, ErrorResponse: ErrorResponse{Error: code, Description: msg}}
}

// KeyEqual compares two keys in constant time. Both are hashed first, so
// not even the length of the key shows in the timing.
func KeyEqual(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return want != "" && subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// LoopbackHost reports whether a Host header names this machine: 127.0.0.1
// (any 127/8 address), [::1] or localhost, with or without a port.
func LoopbackHost(host string) bool {
	if host == "" {
		return false
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		h = host[1 : len(host)-1]
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ProfileFromPath returns PROFILE from /token/PROFILE, or false for any
// other path. path is the decoded URL path.
func ProfileFromPath(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, TokenPath)
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}
