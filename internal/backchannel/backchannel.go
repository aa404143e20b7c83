// Package backchannel builds the HTTP clients lanyard uses to talk to
// authorization servers directly (token, device authorization, revocation,
// discovery, and the GitHub App plugin's API calls).
//
// A back-channel request carries secrets in its body or headers: client
// secrets, refresh tokens, passwords, PKCE verifiers. A 307 or 308 redirect
// makes Go's default client resend that body to wherever the Location
// points, plain http included, and Basic credentials survive a same-host
// https→http hop. So token, device and revocation requests follow no
// redirect at all ([NoRedirects]); discovery, a plain GET, follows only
// redirects that stay on the same https origin ([SameOriginHTTPS]).
package backchannel

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds a back-channel request when the caller sets none.
const DefaultTimeout = 30 * time.Second

// RedirectError is a back-channel request the server answered with a
// redirect lanyard refuses to follow. It names where the redirect pointed,
// so the person can fix the endpoint in the profile.
type RedirectError struct {
	Status   int    // e.g. 307
	From     string // the URL that answered
	Location string // where it pointed
	// SameOrigin is set for discovery: only same-origin https redirects
	// are followed there, and this one was not.
	SameOrigin bool
}

func (e *RedirectError) Error() string {
	host := e.Location
	if u, err := url.Parse(e.Location); err == nil && u.Host != "" {
		host = u.Scheme + "://" + u.Host
	}
	if e.SameOrigin {
		return fmt.Sprintf("%s redirected (HTTP %d) to %s, which is not the same https origin; lanyard follows only same-origin https redirects here: set the endpoint to the final address if you trust %s", e.From, e.Status, host, host)
	}
	return fmt.Sprintf("%s redirected (HTTP %d) to %s; lanyard never follows redirects when it sends secrets: set the endpoint in the profile to the final address if you trust %s", e.From, e.Status, host, host)
}

// Client returns the client for token, device authorization and
// revocation requests: it follows no redirect (a 3xx is a *RedirectError
// naming the Location's host) and times out after timeout (0:
// DefaultTimeout).
func Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return NoRedirects(&http.Client{Timeout: timeout})
}

// NoRedirects returns a copy of c (nil: a new client with DefaultTimeout)
// that follows no redirect. Code that receives a client from elsewhere
// (tests, callers) passes it through here, so that the policy holds
// whatever client it was given.
func NoRedirects(c *http.Client) *http.Client {
	nc := copyOf(c)
	nc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return redirectError(req, via, false)
	}
	return nc
}

// SameOriginHTTPS returns a copy of c (nil: a new client with
// DefaultTimeout) for discovery: it follows at most 5 redirects, each to
// https on the scheme, host and port of the first request. Anything else
// is a *RedirectError.
func SameOriginHTTPS(c *http.Client) *http.Client {
	nc := copyOf(c)
	nc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != "https" || first.Scheme != "https" || !strings.EqualFold(req.URL.Host, first.Host) {
			return redirectError(req, via, true)
		}
		if len(via) >= 5 {
			return fmt.Errorf("%s: stopped after %d redirects", first, len(via))
		}
		return nil
	}
	return nc
}

func copyOf(c *http.Client) *http.Client {
	if c == nil {
		return &http.Client{Timeout: DefaultTimeout}
	}
	nc := *c
	return &nc
}

func redirectError(req *http.Request, via []*http.Request, sameOrigin bool) error {
	prev := via[len(via)-1]
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	return &RedirectError{Status: status, From: redactURL(prev.URL), Location: redactURL(req.URL), SameOrigin: sameOrigin}
}

// redactURL drops userinfo and query: neither belongs in an error message.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}
