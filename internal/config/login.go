package config

import (
	"fmt"
	"time"
)

// Response modes of an authorization response (OAuth 2.0 Multiple Response
// Type Encoding Practices; OAuth 2.0 Form Post Response Mode).
const (
	// ResponseModeQuery: the code comes back in the redirect's query (the
	// default of response_type=code).
	ResponseModeQuery = "query"
	// ResponseModeFormPost: the provider's page POSTs the response to the
	// redirect_uri as a form (Entra ID and Apple prefer or require it).
	ResponseModeFormPost = "form_post"
)

// DefaultLoginTimeout is how long a tool waiting for a browser login the
// agent runs for it waits before failing, when login_timeout is not set.
const DefaultLoginTimeout = 3 * time.Minute

// buildLogin checks the keys of an interactive login: response_mode and
// login_timeout.
func buildLogin(p *Profile, r rawProfile, fail func(k, msg string) error) error {
	switch r.ResponseMode {
	case "":
		p.ResponseMode = ResponseModeQuery
	case ResponseModeQuery, ResponseModeFormPost:
		p.ResponseMode = r.ResponseMode
	default:
		return fail("response_mode", fmt.Sprintf("%q is not valid; use query or form_post", r.ResponseMode))
	}
	p.LoginTimeout = DefaultLoginTimeout
	if r.LoginTimeout != "" {
		d, err := time.ParseDuration(r.LoginTimeout)
		if err != nil || d <= 0 {
			return fail("login_timeout", fmt.Sprintf("%q is not a positive duration; use e.g. \"3m\" or \"90s\"", r.LoginTimeout))
		}
		p.LoginTimeout = d
	}
	return nil
}
