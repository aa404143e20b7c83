package testprovider

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Fixed Whiplash values (test values).
const (
	WhiplashClientID     = "dbbd69223a50f6d347bb6c1110da12c69a34b1f0a3e69902c5db3e3a03bf58d5"
	WhiplashClientSecret = "whiplash-client-secret"
	WhiplashCallbackURL  = "https://hookbin.com/bin/lanyard"
	WhiplashUsername     = "ops@whiplash.test"
	WhiplashPassword     = "whiplash-password"
)

// Whiplash emulates the Whiplash V2 API (seed 002; a Doorkeeper server).
//
// GET {URL}/oauth/authorize (scope, response_type=code, redirect_uri,
// client_id, optional state) shows a login form; approving redirects to the
// one registered, non-loopback CallbackURL with code (and state). The
// callback is not reachable: lanyard uses paste mode, tests use
// AuthorizeRedirect.
//
// Wire rules enforced at POST {URL}/oauth/token:
//   - body is application/x-www-form-urlencoded only;
//   - client_id and client_secret in the body only (HTTP Basic is 401
//     invalid_client);
//   - authorization_code needs redirect_uri equal to CallbackURL, code and
//     scope (within the authorized scopes);
//   - answers {"access_token","token_type":"bearer" (lowercase),
//     "expires_in":7200,"scope":"user_manage","created_at":UNIX,
//     "refresh_token"};
//   - refresh tokens rotate on every use; presenting a rotated one is
//     invalid_grant, counts in ReuseDetections and revokes the whole grant
//     (every access and refresh token of the chain).
type Whiplash struct {
	core
	// URL is the base (like https://sandbox.whiplash.app); TokenURL,
	// AuthURL and RevocationURL are URL + "/oauth/token", "/oauth/authorize"
	// and "/oauth/revoke" (RFC 7009: a refresh token revokes its grant).
	URL, TokenURL, AuthURL, RevocationURL string
	// ClientID ("application_id") and ClientSecret of the registered app.
	ClientID, ClientSecret string
	// CallbackURL is the registered redirect_uri.
	CallbackURL string
	// Username/Password log in to the Whiplash web app.
	Username, Password string
}

var whiplashScopes = []string{"user_read", "user_manage"}

// StartWhiplash starts a Whiplash emulator.
func StartWhiplash() (*Whiplash, error) {
	e := &Whiplash{
		core:     newCore("whiplash", 2*time.Hour),
		ClientID: WhiplashClientID, ClientSecret: WhiplashClientSecret, CallbackURL: WhiplashCallbackURL,
		Username: WhiplashUsername, Password: WhiplashPassword,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth/authorize", e.authorize)
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		// Whiplash: rate-limit headers on every answer.
		w.Header().Set("X-Ratelimit-Limit", "1000")
		w.Header().Set("X-Ratelimit-Remaining", "999")
		if err := e.serveToken(w, r); err != nil {
			writeError(w, err)
		}
	})
	// Doorkeeper: RFC 7009 revocation at /oauth/revoke, client in the body.
	mux.HandleFunc("POST /oauth/revoke", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != e.ClientID || r.PostForm.Get("client_secret") != e.ClientSecret {
			writeError(w, invalidClient("whiplash: client authentication failed (client_id and client_secret in the body)"))
			return
		}
		e.revokeToken(r.PostForm.Get("token"), e.ClientID)
		writeJSON(w, http.StatusOK, map[string]any{})
	})
	mux.Handle("/", Protect(e.Valid, apiOK("whiplash")))
	srv, err := startServer(e.wrap("/oauth/token", mux))
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, srv)
	e.URL, e.TokenURL, e.AuthURL, e.RevocationURL = srv.URL, srv.URL+"/oauth/token", srv.URL+"/oauth/authorize", srv.URL+"/oauth/revoke"
	return e, nil
}

// AuthorizeRedirect plays the user: it opens authorizeURL, logs in and
// approves, and returns the redirect to CallbackURL (code and state, or an
// error) without following it.
func (e *Whiplash) AuthorizeRedirect(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return scripted(ctx, e.URL, authorizeURL, e.Username, e.Password, true)
}

// AuthorizeDeny is AuthorizeRedirect with the user denying: the redirect
// carries error=access_denied.
func (e *Whiplash) AuthorizeDeny(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return scripted(ctx, e.URL, authorizeURL, e.Username, e.Password, false)
}

// IssueRefreshToken creates a refresh token with scope user_manage, as if the
// user had logged in once.
func (e *Whiplash) IssueRefreshToken() string {
	return e.issueRefresh(grant{family: randToken("fam_"), clientID: e.ClientID, subject: e.Username, scopes: []string{"user_manage"}})
}

func (e *Whiplash) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p := r.Form
	// Errors about the client or redirect_uri are shown, never redirected (RFC 6749 §4.1.2.1).
	if p.Get("client_id") != e.ClientID {
		http.Error(w, "whiplash: unknown client_id", http.StatusBadRequest)
		return
	}
	if p.Get("redirect_uri") != e.CallbackURL {
		http.Error(w, "whiplash: redirect_uri does not match the registered callback URL", http.StatusBadRequest)
		return
	}
	fail := func(code, desc string) {
		http.Redirect(w, r, redirectWith(e.CallbackURL, false, "error", code, "error_description", desc, "state", p.Get("state")), http.StatusFound)
	}
	if p.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	scopes := strings.Fields(p.Get("scope"))
	if len(scopes) == 0 || slices.ContainsFunc(scopes, func(s string) bool { return !slices.Contains(whiplashScopes, s) }) {
		fail("invalid_scope", "scope must be user_read and/or user_manage")
		return
	}
	hidden := url.Values{}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state"} {
		if p.Has(k) {
			hidden.Set(k, p.Get(k))
		}
	}
	if r.Method != http.MethodPost {
		loginPage(w, http.StatusOK, "Log in to Whiplash", "/oauth/authorize", hidden, "")
		return
	}
	if p.Get("action") == "deny" {
		fail("access_denied", "the resource owner denied the request")
		return
	}
	if p.Get("username") != e.Username || p.Get("password") != e.Password {
		loginPage(w, http.StatusOK, "Log in to Whiplash", "/oauth/authorize", hidden, "Invalid email or password.")
		return
	}
	code := e.issueCode(grant{family: randToken("fam_"), clientID: e.ClientID, subject: e.Username, scopes: scopes, redirect: e.CallbackURL})
	http.Redirect(w, r, redirectWith(e.CallbackURL, false, "code", code, "state", p.Get("state")), http.StatusFound)
}

func (e *Whiplash) serveToken(w http.ResponseWriter, r *http.Request) *oauthError {
	// Whiplash: form body only.
	if mediaType(r) != formType {
		return badRequest("whiplash: Content-Type must be application/x-www-form-urlencoded, got %q", r.Header.Get("Content-Type"))
	}
	// Whiplash: client credentials go in the body, never in a Basic header.
	if r.Header.Get("Authorization") != "" {
		return invalidClient("whiplash: send client_id and client_secret in the form body, not in an Authorization header")
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("whiplash: malformed form body: %v", err)
	}
	f := r.PostForm
	if f.Get("client_id") != e.ClientID || f.Get("client_secret") != e.ClientSecret {
		return invalidClient("whiplash: client authentication failed (client_id and client_secret in the body)")
	}
	var g grant
	switch f.Get("grant_type") {
	case "authorization_code":
		if f.Get("redirect_uri") != e.CallbackURL {
			return invalidGrant("whiplash: redirect_uri must be the registered callback URL %s", e.CallbackURL)
		}
		// Whiplash: the code exchange repeats the scope.
		scopes := strings.Fields(f.Get("scope"))
		if len(scopes) == 0 {
			return badRequest("whiplash: scope is required in the code exchange")
		}
		var err *oauthError
		if g, err = e.useCode(f.Get("code"), e.ClientID); err != nil {
			return err
		}
		if slices.ContainsFunc(scopes, func(s string) bool { return !slices.Contains(g.scopes, s) }) {
			return errf(http.StatusBadRequest, "invalid_scope", "whiplash: scope exceeds the authorized scope %q", strings.Join(g.scopes, " "))
		}
		g.scopes = scopes
	case "refresh_token":
		if f.Get("refresh_token") == "" {
			return badRequest("whiplash: refresh_token missing")
		}
		var err *oauthError
		if g, err = e.useRefresh(f.Get("refresh_token"), e.ClientID, rotateRevokeAll); err != nil {
			return err
		}
	case "":
		return badRequest("whiplash: grant_type missing")
	default:
		return errf(http.StatusBadRequest, "unsupported_grant_type", "whiplash: grant_type %q is not supported", f.Get("grant_type"))
	}
	at, exp := e.issueAccess(g, 0)
	rt := e.issueRefresh(g)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  at,
		"token_type":    "bearer", // Whiplash: lowercase
		"expires_in":    exp,
		"scope":         strings.Join(g.scopes, " "),
		"created_at":    time.Now().Unix(), // Whiplash: Doorkeeper's created_at
		"refresh_token": rt,
	})
	return nil
}
