package grant

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/browser"
	"golang.org/x/oauth2"
)

// DefaultRedirectURI is the redirect_uri of a profile that sets none: the
// loopback listener on a free port (RFC 8252 §7.3).
const DefaultRedirectURI = "http://127.0.0.1/callback"

// DefaultLoginTimeout bounds the wait for the person when
// Interaction.Timeout is 0.
const DefaultLoginTimeout = 5 * time.Minute

// AuthCodeRequest describes one authorization code (RFC 6749 §4.1) or
// implicit (§4.2) login.
type AuthCodeRequest struct {
	// AuthURL is the authorization endpoint.
	AuthURL string
	// RedirectURI on a loopback host is received by a local listener;
	// anything else (Whiplash's fixed https callback) means paste mode.
	// "" is DefaultRedirectURI.
	RedirectURI string
	// Scopes are joined with ScopeSeparator (" " when empty) in the
	// authorize URL; offline_access is a scope like any other (Whisk).
	Scopes         []string
	ScopeSeparator string
	// AuthParams are added to the authorize URL (Whisk: identity_provider).
	// They cannot replace the parameters lanyard sets itself.
	AuthParams map[string]string
	// PKCE is "S256" (the default) or "none" (authorization code only).
	PKCE string
	// Resource are RFC 8707 resource indicators (MCP: the server's
	// canonical URI), one resource parameter each.
	Resource []string
	// Issuer is the profile's issuer. An authorization response carrying
	// RFC 9207's iss must name it; RequireIss (the server advertises
	// authorization_response_iss_parameter_supported) makes iss mandatory.
	Issuer     string
	RequireIss bool
}

// Interaction is how an interactive grant reaches the person.
type Interaction struct {
	// UI receives the URL and messages: the terminal or stderr, never
	// stdout, which belongs to the tool protocols.
	UI io.Writer
	// UITerminal is set when UI is a terminal (the device flow then draws
	// a QR code).
	UITerminal bool
	// Paste is where a redirected URL or bare code is read; nil: nowhere.
	Paste io.Reader
	// PasteTerminal is set when Paste is a terminal a person types on. A
	// Paste that is not (a script's stdin) is read only when the browser
	// cannot reach a listener: the URL was printed, not opened, or the
	// redirect_uri is not loopback.
	PasteTerminal bool
	// Open opens a URL in a browser; nil means print it only (headless).
	Open func(url string) error
	// NoBrowser prints the URL even when a browser could be opened.
	NoBrowser bool
	// Timeout bounds the wait for the person; 0 is DefaultLoginTimeout.
	Timeout time.Duration
}

func (in Interaction) ui() io.Writer {
	if in.UI == nil {
		return io.Discard
	}
	return in.UI
}

func (in Interaction) timeout() time.Duration {
	if in.Timeout <= 0 {
		return DefaultLoginTimeout
	}
	return in.Timeout
}

// AuthorizeError is an error the authorization server sent back in the
// redirect (RFC 6749 §4.1.2.1), e.g. access_denied when the person pressed
// "Deny".
type AuthorizeError struct {
	Code, Description, URI string
}

func (e *AuthorizeError) Error() string {
	var b strings.Builder
	b.WriteString("the authorization server refused the login: ")
	b.WriteString(Printable(e.Code))
	if e.Description != "" {
		b.WriteString(": " + Printable(e.Description))
	}
	if e.URI != "" {
		b.WriteString(" (see " + Printable(e.URI) + ")")
	}
	switch e.Code {
	case "access_denied":
		b.WriteString(" (the request was denied at the login page)")
	case "invalid_scope":
		b.WriteString(" (check the profile's scopes and scope_separator)")
	case "unauthorized_client", "invalid_request":
		b.WriteString(" (check the profile's client_id and redirect_uri)")
	}
	return b.String()
}

// ErrStateMismatch means the redirect's state is not the one this login
// sent: a stale URL from an earlier attempt, or a forged redirect (RFC 6749
// §10.12). Its code must not be used.
var ErrStateMismatch = errors.New("the redirect's state does not match the one this login sent (a URL from an earlier attempt, or a forged redirect), so its code was not used")

// ErrIssuerMismatch means the redirect's iss (RFC 9207) names another
// authorization server than the profile's issuer: a mix-up attack, or the
// wrong issuer in the profile.
var ErrIssuerMismatch = errors.New("the redirect's iss names another authorization server than the profile's issuer (RFC 9207), so its code was not used")

// notThisLogin marks a redirect error as browser.ErrNotThisLogin: the
// listener ignores such a redirect and keeps waiting.
type notThisLogin struct{ error }

func (e notThisLogin) Unwrap() error        { return e.error }
func (e notThisLogin) Is(target error) bool { return target == browser.ErrNotThisLogin }

// ErrLoginTimeout means nobody finished the login in time.
var ErrLoginTimeout = errors.New("timed out waiting for the login")

// reserved are the authorize parameters lanyard sets; auth_params cannot
// replace them (a fixed state would defeat its purpose).
var reserved = []string{"client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "scope"}

// AuthCode runs the authorization code grant: the person logs in in a
// browser, the code comes back through the loopback listener or a paste,
// and is exchanged at the token endpoint with c (its client_auth and
// token_request dialect apply: Whisk multipart, Whiplash secret in the
// body). state is always sent and checked; PKCE S256 unless r.PKCE is "none".
func AuthCode(ctx context.Context, c *Client, r AuthCodeRequest, in Interaction) (*Token, error) {
	var opts []oauth2.AuthCodeOption
	verifier := ""
	if r.PKCE != "none" {
		verifier = NewVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	rd, redirectURI, err := authorize(ctx, c.ClientID, r, in, "code", opts...)
	if err != nil {
		return nil, err
	}
	// Whiplash: the exchange repeats redirect_uri and scope.
	return c.Exchange(ctx,
		Param{"grant_type", "authorization_code"},
		Param{"code", rd.Params.Get("code")},
		Param{"redirect_uri", redirectURI},
		Param{"code_verifier", verifier},
		c.scope(r.Scopes),
	)
}

// authorize sends the person to the authorization endpoint and returns the
// checked redirect and the redirect_uri that was sent.
func authorize(ctx context.Context, clientID string, r AuthCodeRequest, in Interaction, responseType string, extra ...oauth2.AuthCodeOption) (*browser.Redirect, string, error) {
	if r.AuthURL == "" {
		return nil, "", errors.New("no authorization endpoint: set auth_url, or an issuer whose discovery document has authorization_endpoint")
	}
	redirectURI := r.RedirectURI
	if redirectURI == "" {
		redirectURI = DefaultRedirectURI
	}
	state := newState()
	loopback := browser.IsLoopback(redirectURI)
	check := func(rd *browser.Redirect) error { return checkRedirect(rd, state, responseType, r, loopback) }
	var l *browser.Listener
	if loopback {
		var err error
		l, err = browser.Listen(redirectURI, browser.ListenOptions{Fragment: responseType == "token", Check: check})
		if err != nil {
			return nil, "", err
		}
		defer l.Close()
		redirectURI = l.RedirectURI()
	}

	var opts []oauth2.AuthCodeOption
	for _, k := range slices.Sorted(maps.Keys(r.AuthParams)) {
		if !slices.Contains(reserved, k) {
			opts = append(opts, oauth2.SetAuthURLParam(k, r.AuthParams[k]))
		}
	}
	if len(r.Scopes) > 0 {
		sep := r.ScopeSeparator
		if sep == "" {
			sep = " "
		}
		opts = append(opts, oauth2.SetAuthURLParam("scope", strings.Join(r.Scopes, sep)))
	}
	opts = append(opts, oauth2.SetAuthURLParam("response_type", responseType))
	opts = append(opts, extra...)
	cfg := oauth2.Config{ClientID: clientID, Endpoint: oauth2.Endpoint{AuthURL: r.AuthURL}, RedirectURL: redirectURI}
	authURL := withResource(cfg.AuthCodeURL(state, opts...), r.Resource)

	ui := in.ui()
	printed := in.NoBrowser || in.Open == nil
	if !printed {
		if err := in.Open(authURL); err != nil {
			fmt.Fprintf(ui, "lanyard: could not open a browser (%v)\n", err)
			printed = true
		}
	}
	if printed {
		fmt.Fprintf(ui, "lanyard: open this URL in a browser to log in:\n\n    %s\n\n", authURL)
	} else {
		fmt.Fprintf(ui, "lanyard: opened a browser to log in; if it did not open, visit:\n\n    %s\n\n", authURL)
	}
	paste := in.Paste
	if loopback && !printed && !in.PasteTerminal {
		paste = nil // a script's stdin is not the person; the browser reaches the listener
	}
	switch {
	case !loopback && paste == nil:
		return nil, "", fmt.Errorf("redirect_uri %s is not a loopback address, so the redirected URL must be pasted, but there is no terminal or stdin to read it from", redirectURI)
	case !loopback:
		fmt.Fprintf(ui, "lanyard: after you log in, the browser is sent to %s?code=... (the page itself may not load)\nlanyard: copy that whole URL from the address bar (or just the code), paste it here and press Enter:\n", redirectURI)
	case paste != nil:
		fmt.Fprintf(ui, "lanyard: waiting for the browser to come back to %s\nlanyard: if it cannot reach this machine (SSH, container), paste the URL it ends up on here and press Enter:\n", redirectURI)
	default:
		fmt.Fprintf(ui, "lanyard: waiting for the browser to come back to %s\n", redirectURI)
	}

	timeout := in.timeout()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rd, err := browser.Receive(wctx, l, paste, check)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, "", fmt.Errorf("%w: no login came back within %s (use --timeout to wait longer)", ErrLoginTimeout, timeout)
		}
		if errors.Is(err, browser.ErrNoPaste) {
			return nil, "", fmt.Errorf("%w: paste the URL the browser was redirected to (or the code) on stdin", err)
		}
		return nil, "", err
	}
	if rd.BareCode {
		fmt.Fprintln(ui, "lanyard: a bare code carries no state, so lanyard could not check that it comes from this login; paste the whole URL next time")
	}
	return rd, redirectURI, nil
}

// checkRedirect judges what came back: the state first (a redirect
// without the right one is not this login's, whatever else it says, even
// an error), then an error redirect, RFC 9207's iss, and the code (or, for
// the implicit grant, the access token).
func checkRedirect(rd *browser.Redirect, state, responseType string, r AuthCodeRequest, loopback bool) error {
	p := rd.Params
	if rd.BareCode {
		switch {
		case responseType == "token":
			return errors.New("the implicit grant returns the token in the URL fragment: paste the whole URL the browser was redirected to, not just a code")
		case loopback:
			// The browser's address bar holds the whole URL, state included.
			return errors.New("a bare code cannot be checked against this login's state: paste the whole URL the browser was redirected to (it contains state=...)")
		}
		// Paste mode (a fixed non-loopback callback, Whiplash): some
		// providers show only the code; the person vouches for it.
		return nil
	}
	got := p.Get("state")
	if got == "" {
		return notThisLogin{fmt.Errorf("the redirect carries no state although this login sent one (RFC 6749 §4.1.2), so it was not used")}
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1 {
		return notThisLogin{ErrStateMismatch}
	}
	if iss := p.Get("iss"); iss != "" || r.RequireIss {
		if iss == "" {
			return fmt.Errorf("%w: the server advertises authorization_response_iss_parameter_supported but the redirect carries no iss", ErrIssuerMismatch)
		}
		// Without a configured issuer (explicit auth_url) there is
		// nothing to compare with.
		if r.Issuer != "" && strings.TrimRight(iss, "/") != strings.TrimRight(r.Issuer, "/") {
			return fmt.Errorf("%w: got iss %q, profile issuer %q", ErrIssuerMismatch, Printable(iss), r.Issuer)
		}
	}
	if e := p.Get("error"); e != "" {
		return &AuthorizeError{Code: e, Description: p.Get("error_description"), URI: p.Get("error_uri")}
	}
	switch responseType {
	case "code":
		if p.Get("code") == "" {
			return errors.New("the redirect carries no code")
		}
	case "token":
		if p.Get("access_token") == "" {
			return errors.New("the redirect carries no access_token in its fragment")
		}
	}
	return nil
}

// withResource adds one resource parameter per indicator (RFC 8707 §2: the
// parameter may repeat, which oauth2.SetAuthURLParam cannot express).
func withResource(authURL string, resource []string) string {
	if len(resource) == 0 {
		return authURL
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return authURL
	}
	q := u.Query()
	q.Del("resource")
	for _, r := range resource {
		q.Add("resource", r)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
