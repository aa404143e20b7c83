package testprovider

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"time"
)

// Fixed Whisk values (test values).
const (
	WhiskClientID      = "whisk-test-client"
	WhiskClientSecret  = "whisk-test-secret"
	WhiskRedirectURI   = "https://app.lanyard.test/whisk/callback"
	WhiskUsername      = "cook@whisk.test"
	WhiskPassword      = "whisk-password"
	whiskCodeTTL       = 30 * 24 * time.Hour // expires_in 2592000, as in the docs
	whiskImplicitTTL   = 24 * time.Hour      // expires_in 86400 for the implicit grant
	whiskOfflineAccess = "offline_access"
)

var whiskScopeRE = regexp.MustCompile(`^[a-z_]+(:[a-z_]+)?$`)

// Whisk emulates Whisk's user access tokens (seed 003).
//
// GET {URL}/oauth/v2/authorize takes client_id, response_type (code or token),
// redirect_uri (RedirectURI, or any http loopback URI on any port and path),
// scope (separated by spaces OR commas; required for code), optional state and
// identity_provider. Without identity_provider it shows a login form; with
// one the user is "forwarded to the identity provider" who has a session, so
// it redirects at once. The code grant redirects with ?code=&state=; the
// implicit grant redirects with
// #access_token=..&state=..&token_type=Bearer&expires_in=86400 (no refresh
// token). Every GET is recorded: see LastAuthorizeQuery.
//
// Wire rules enforced at POST {URL}/oauth/v2/token:
//   - client_id and client_secret in the body (HTTP Basic is 401 invalid_client);
//   - authorization_code: multipart/form-data ONLY (curl -F; urlencoded is
//     400 invalid_request), redirect_uri equal to the authorize request's;
//   - refresh_token: urlencoded (curl -d) or multipart; the refresh token is
//     not rotated and not returned again;
//   - answers {"access_token","token_type":"Bearer","expires_in":2592000,
//     "scope":[...JSON array...][,"refresh_token"]}; a refresh_token only when
//     offline_access was authorized.
//
// Any other GET on URL is a protected demo API accepting the token as a
// Bearer header or an access_token query parameter, as Whisk's API does.
type Whisk struct {
	core
	// URL is the base (like https://login.whisk.com); TokenURL and AuthURL are
	// URL + "/oauth/v2/token" and "/oauth/v2/authorize".
	URL, TokenURL, AuthURL string
	// ClientID/ClientSecret of the registered app.
	ClientID, ClientSecret string
	// RedirectURI is the registered non-loopback redirect URI.
	RedirectURI string
	// Username/Password log in on the authorize page.
	Username, Password string

	qmu         sync.Mutex
	lastQuery   url.Values
	implicitTTL time.Duration
}

// StartWhisk starts a Whisk emulator.
func StartWhisk() (*Whisk, error) {
	e := &Whisk{
		core:     newCore("whisk", whiskCodeTTL),
		ClientID: WhiskClientID, ClientSecret: WhiskClientSecret, RedirectURI: WhiskRedirectURI,
		Username: WhiskUsername, Password: WhiskPassword,
		implicitTTL: whiskImplicitTTL,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth/v2/authorize", e.authorize)
	mux.HandleFunc("POST /oauth/v2/token", func(w http.ResponseWriter, r *http.Request) {
		if err := e.serveToken(w, r); err != nil {
			writeError(w, err)
		}
	})
	mux.Handle("/", protect(e.Valid, true, apiOK("whisk")))
	srv, err := startServer(e.wrap("/oauth/v2/token", mux))
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, srv)
	e.URL, e.TokenURL, e.AuthURL = srv.URL, srv.URL+"/oauth/v2/token", srv.URL+"/oauth/v2/authorize"
	return e, nil
}

// SetAccessTTL sets the lifetime of every access token issued from now on
// (code, refresh and implicit grants alike).
func (e *Whisk) SetAccessTTL(d time.Duration) {
	e.core.SetAccessTTL(d)
	e.qmu.Lock()
	e.implicitTTL = d
	e.qmu.Unlock()
}

// LastAuthorizeQuery returns the query of the last GET of the authorize
// endpoint (nil before the first), so tests can check that state, scope and
// identity_provider reached it.
func (e *Whisk) LastAuthorizeQuery() url.Values {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	if e.lastQuery == nil {
		return nil
	}
	q := url.Values{}
	for k, v := range e.lastQuery {
		q[k] = slices.Clone(v)
	}
	return q
}

// AuthorizeRedirect plays the user: it opens authorizeURL, logs in and
// approves, and returns the redirect to the redirect_uri (query code/state,
// or fragment access_token/state/token_type/expires_in) without following it.
func (e *Whisk) AuthorizeRedirect(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return scripted(ctx, e.URL, authorizeURL, e.Username, e.Password, true)
}

// AuthorizeDeny is AuthorizeRedirect with the user denying (error=access_denied).
func (e *Whisk) AuthorizeDeny(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return scripted(ctx, e.URL, authorizeURL, e.Username, e.Password, false)
}

// IssueRefreshToken creates a refresh token (scopes recipe:read and
// offline_access), as if the user had logged in once.
func (e *Whisk) IssueRefreshToken() string {
	return e.issueRefresh(grant{family: randToken("fam_"), clientID: e.ClientID, subject: e.Username, scopes: []string{"recipe:read", whiskOfflineAccess}})
}

func (e *Whisk) redirectAllowed(u string) bool {
	// Whisk: approved URIs only; for tests any http loopback URI counts as approved.
	return u == e.RedirectURI || isLoopbackHTTP(u)
}

func (e *Whisk) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		e.qmu.Lock()
		e.lastQuery = r.URL.Query()
		e.qmu.Unlock()
	}
	p := r.Form
	redirect := p.Get("redirect_uri")
	if p.Get("client_id") != e.ClientID {
		http.Error(w, "whisk: unknown client_id", http.StatusBadRequest)
		return
	}
	if !e.redirectAllowed(redirect) {
		http.Error(w, "whisk: redirect_uri is not approved for this client", http.StatusBadRequest)
		return
	}
	rt := p.Get("response_type")
	implicit := rt == "token"
	fail := func(code, desc string) {
		http.Redirect(w, r, redirectWith(redirect, implicit, "error", code, "error_description", desc, "state", p.Get("state")), http.StatusFound)
	}
	if rt != "code" && rt != "token" {
		fail("unsupported_response_type", "response_type must be code or token")
		return
	}
	// Whisk: scopes separated by space or comma.
	scopes := splitScopes(p.Get("scope"))
	if len(scopes) == 0 && !implicit {
		fail("invalid_scope", "scope is required")
		return
	}
	if slices.ContainsFunc(scopes, func(s string) bool { return !whiskScopeRE.MatchString(s) }) {
		fail("invalid_scope", "malformed scope")
		return
	}
	hidden := url.Values{}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "identity_provider"} {
		if p.Has(k) {
			hidden.Set(k, p.Get(k))
		}
	}
	switch {
	case p.Get("identity_provider") != "":
		// Whisk: forwarded to the identity provider, which has a session.
	case r.Method != http.MethodPost:
		loginPage(w, http.StatusOK, "Sign in to Whisk", "/oauth/v2/authorize", hidden, "")
		return
	case p.Get("action") == "deny":
		fail("access_denied", "the user denied the request")
		return
	case p.Get("username") != e.Username || p.Get("password") != e.Password:
		loginPage(w, http.StatusOK, "Sign in to Whisk", "/oauth/v2/authorize", hidden, "Wrong email or password.")
		return
	}
	g := grant{family: randToken("fam_"), clientID: e.ClientID, subject: e.Username, scopes: scopes, redirect: redirect}
	if implicit {
		e.qmu.Lock()
		ttl := e.implicitTTL
		e.qmu.Unlock()
		at, exp := e.issueAccess(g, ttl)
		// Whisk: implicit grant answers in the fragment, in this order.
		http.Redirect(w, r, redirectWith(redirect, true, "access_token", at, "state", p.Get("state"), "token_type", "Bearer", "expires_in", itoa(exp)), http.StatusFound)
		return
	}
	http.Redirect(w, r, redirectWith(redirect, false, "code", e.issueCode(g), "state", p.Get("state")), http.StatusFound)
}

func (e *Whisk) serveToken(w http.ResponseWriter, r *http.Request) *oauthError {
	mt := mediaType(r)
	switch mt {
	case multipartType:
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return badRequest("whisk: malformed multipart body: %v", err)
		}
	case formType:
		if err := r.ParseForm(); err != nil {
			return badRequest("whisk: malformed form body: %v", err)
		}
	default:
		return badRequest("whisk: Content-Type must be multipart/form-data or application/x-www-form-urlencoded, got %q", r.Header.Get("Content-Type"))
	}
	if r.Header.Get("Authorization") != "" {
		return invalidClient("whisk: send client_id and client_secret in the body, not in an Authorization header")
	}
	f := r.PostForm
	if f.Get("client_id") != e.ClientID || f.Get("client_secret") != e.ClientSecret {
		return invalidClient("whisk: client authentication failed (client_id and client_secret in the body)")
	}
	var (
		g           grant
		err         *oauthError
		withRefresh bool
	)
	switch f.Get("grant_type") {
	case "authorization_code":
		// Whisk: the code exchange is documented (and accepted) only as curl -F.
		if mt != multipartType {
			return badRequest("whisk: the authorization_code exchange must be sent as multipart/form-data")
		}
		if g, err = e.useCode(f.Get("code"), e.ClientID); err != nil {
			return err
		}
		if f.Get("redirect_uri") != g.redirect {
			return invalidGrant("whisk: redirect_uri does not match the authorization request")
		}
		// Whisk: a refresh token only with offline_access.
		withRefresh = slices.Contains(g.scopes, whiskOfflineAccess)
	case "refresh_token":
		if f.Get("refresh_token") == "" {
			return badRequest("whisk: refresh_token missing")
		}
		if g, err = e.useRefresh(f.Get("refresh_token"), e.ClientID, noRotation); err != nil {
			return err
		}
	case "":
		return badRequest("whisk: grant_type missing")
	default:
		return errf(http.StatusBadRequest, "unsupported_grant_type", "whisk: grant_type %q is not supported", f.Get("grant_type"))
	}
	at, exp := e.issueAccess(g, 0)
	scopes := g.scopes
	if scopes == nil {
		scopes = []string{}
	}
	// Whisk: scope is a JSON array.
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": exp, "scope": scopes}
	if withRefresh {
		resp["refresh_token"] = e.issueRefresh(g)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
