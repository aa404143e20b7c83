package testprovider

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MCPAuth emulates the authorization server of an MCP server, as the MCP
// authorization specification expects one:
//
//   - RFC 8414 metadata at /.well-known/oauth-authorization-server, with a
//     registration_endpoint;
//   - RFC 7591 dynamic registration at /register, of public clients only
//     (token_endpoint_auth_method "none", loopback redirect URIs);
//     Registrations counts them;
//   - /authorize approves at once (the person is assumed to consent) when
//     client_id is registered, redirect_uri is one of its loopback URIs on
//     any port (RFC 8252 §7.3), PKCE S256 is used and resource names
//     Resource (RFC 8707); it redirects with code, state and iss;
//   - /token: authorization_code (code_verifier checked, resource must
//     match) and refresh_token (rotating; a reused one is invalid_grant and
//     revokes the grant, as Whiplash);
//   - every other path is an API behind Protect(Valid), for resource
//     servers to check a token with.
type MCPAuth struct {
	core
	// URL is the issuer.
	URL string
	// issuer is URL for the handlers: set after the server starts, read
	// by its goroutines.
	issuer atomic.Value
	// Resource is the MCP server's canonical URI the tokens are for; set
	// it before a login (SetResource).
	resource atomic.Value
	// Scopes are the scopes a client may ask for.
	Scopes []string

	mu2           sync.Mutex
	clients       map[string][]string // client_id -> redirect URIs
	challenges    map[string]string   // code -> S256 challenge
	registrations atomic.Int64
	resources     []string     // resource of each authorize and token request
	delay         atomic.Int64 // token endpoint delay (ns), after the grant is spent
}

// SetTokenDelay makes the token endpoint answer d after it has spent the
// presented code or refresh token: a client killed meanwhile loses a
// rotated refresh token unless something else receives it.
func (e *MCPAuth) SetTokenDelay(d time.Duration) { e.delay.Store(int64(d)) }

// IssuedTokens are every access and refresh token issued so far, for
// looking for them in clear on disk.
func (e *MCPAuth) IssuedTokens() []string {
	e.core.mu.Lock()
	defer e.core.mu.Unlock()
	var out []string
	for t := range e.access {
		out = append(out, t)
	}
	for t := range e.refresh {
		out = append(out, t)
	}
	return out
}

// StartMCPAuth starts the emulator.
func StartMCPAuth() (*MCPAuth, error) {
	e := &MCPAuth{core: newCore("mcpauth", time.Hour), Scopes: []string{"mcp:tools"},
		clients: map[string][]string{}, challenges: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": e.iss(), "authorization_endpoint": e.iss() + "/authorize", "token_endpoint": e.iss() + "/token",
			"registration_endpoint": e.iss() + "/register", "response_types_supported": []string{"code"},
			"grant_types_supported": []string{"authorization_code", "refresh_token"}, "code_challenge_methods_supported": []string{"S256"},
			"token_endpoint_auth_methods_supported":          []string{"none"},
			"authorization_response_iss_parameter_supported": true, "scopes_supported": e.Scopes,
		})
	})
	mux.HandleFunc("POST /register", e.register)
	mux.HandleFunc("GET /authorize", e.authorize)
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := e.serveToken(w, r); err != nil {
			writeError(w, err)
		}
	})
	mux.Handle("/", Protect(e.Valid, apiOK("mcpauth")))
	srv, err := startServer(e.wrap("/token", mux))
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, srv)
	e.URL = srv.URL
	e.issuer.Store(srv.URL)
	return e, nil
}

func (e *MCPAuth) iss() string { s, _ := e.issuer.Load().(string); return s }

// SetResource sets the MCP server the tokens are for.
func (e *MCPAuth) SetResource(r string) { e.resource.Store(r) }

func (e *MCPAuth) wantResource() string { s, _ := e.resource.Load().(string); return s }

// Registrations counts dynamic client registrations.
func (e *MCPAuth) Registrations() int64 { return e.registrations.Load() }

// Resources are the resource parameters of every authorize and token
// request, in order.
func (e *MCPAuth) Resources() []string {
	e.mu2.Lock()
	defer e.mu2.Unlock()
	return slices.Clone(e.resources)
}

func (e *MCPAuth) noteResource(r string) {
	e.mu2.Lock()
	e.resources = append(e.resources, r)
	e.mu2.Unlock()
}

func (e *MCPAuth) register(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata", "error_description": err.Error()})
		return
	}
	if req.AuthMethod != "none" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata", "error_description": "mcpauth: only public clients (token_endpoint_auth_method none)"})
		return
	}
	if len(req.RedirectURIs) == 0 || slices.ContainsFunc(req.RedirectURIs, func(u string) bool { return !isLoopbackHTTP(u) }) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_redirect_uri", "error_description": "mcpauth: loopback http redirect URIs only"})
		return
	}
	e.registrations.Add(1)
	id := randToken("dyn_")
	e.mu2.Lock()
	e.clients[id] = req.RedirectURIs
	e.mu2.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"client_id": id, "redirect_uris": req.RedirectURIs, "token_endpoint_auth_method": "none"})
}

// redirectOK: the registered loopback URI, any port (RFC 8252 §7.3).
func (e *MCPAuth) redirectOK(clientID, redirect string) bool {
	e.mu2.Lock()
	uris, ok := e.clients[clientID]
	e.mu2.Unlock()
	got, err := url.Parse(redirect)
	if !ok || err != nil {
		return false
	}
	for _, u := range uris {
		if reg, err := url.Parse(u); err == nil && reg.Scheme == got.Scheme && reg.Hostname() == got.Hostname() && reg.Path == got.Path {
			return true
		}
	}
	return false
}

func (e *MCPAuth) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e.noteResource(strings.Join(q["resource"], " "))
	if !e.redirectOK(q.Get("client_id"), q.Get("redirect_uri")) {
		http.Error(w, "mcpauth: unknown client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	fail := func(code, desc string) {
		http.Redirect(w, r, redirectWith(q.Get("redirect_uri"), false, "error", code, "error_description", desc, "state", q.Get("state"), "iss", e.iss()), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		fail("invalid_request", "PKCE S256 is required")
		return
	case q.Get("resource") != e.wantResource():
		fail("invalid_target", "resource must be "+e.wantResource())
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if slices.ContainsFunc(scopes, func(s string) bool { return !slices.Contains(e.Scopes, s) }) {
		fail("invalid_scope", "unknown scope")
		return
	}
	code := e.issueCode(grant{family: randToken("fam_"), clientID: q.Get("client_id"), subject: "mcp-user", scopes: scopes, redirect: q.Get("redirect_uri")})
	e.mu2.Lock()
	e.challenges[code] = q.Get("code_challenge")
	e.mu2.Unlock()
	http.Redirect(w, r, redirectWith(q.Get("redirect_uri"), false, "code", code, "state", q.Get("state"), "iss", e.iss()), http.StatusFound)
}

func (e *MCPAuth) serveToken(w http.ResponseWriter, r *http.Request) *oauthError {
	if mediaType(r) != formType {
		return badRequest("mcpauth: Content-Type must be %s", formType)
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("mcpauth: malformed form body: %v", err)
	}
	f := r.PostForm
	e.noteResource(strings.Join(f["resource"], " "))
	if f.Get("resource") != e.wantResource() {
		return errf(http.StatusBadRequest, "invalid_target", "mcpauth: resource must be %s", e.wantResource())
	}
	clientID := f.Get("client_id")
	e.mu2.Lock()
	_, known := e.clients[clientID]
	e.mu2.Unlock()
	if !known {
		return invalidClient("mcpauth: unknown client_id")
	}
	var g grant
	var err *oauthError
	switch f.Get("grant_type") {
	case "authorization_code":
		code := f.Get("code")
		e.mu2.Lock()
		challenge := e.challenges[code]
		e.mu2.Unlock()
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if challenge == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			return invalidGrant("mcpauth: code_verifier does not match the code_challenge")
		}
		if g, err = e.useCode(code, clientID); err != nil {
			return err
		}
		if f.Get("redirect_uri") != g.redirect {
			return invalidGrant("mcpauth: redirect_uri differs from the authorization request's")
		}
	case "refresh_token":
		if g, err = e.useRefresh(f.Get("refresh_token"), clientID, rotateRevokeAll); err != nil {
			return err
		}
	default:
		return errf(http.StatusBadRequest, "unsupported_grant_type", "mcpauth: grant_type %q is not supported", f.Get("grant_type"))
	}
	at, exp := e.issueAccess(g, 0)
	rt := e.issueRefresh(g)
	time.Sleep(time.Duration(e.delay.Load()))
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": exp,
		"scope": strings.Join(g.scopes, " "), "refresh_token": rt,
	})
	return nil
}
