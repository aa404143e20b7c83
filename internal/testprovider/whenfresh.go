package testprovider

import (
	"crypto/rand"
	"net/http"
	"time"
)

// Fixed WhenFresh values (test values; the developer client id is the one the
// WhenFresh docs print).
const (
	WhenFreshDeveloperClientID   = "r5e6j0k1oevsfgmb9secod9qd"
	WhenFreshMachineClientID     = "wf-machine-client"
	WhenFreshMachineClientSecret = "wf-machine-secret"
)

// WhenFresh emulates the WhenFresh API (seed 000): discovery on the API host,
// token endpoint on a separate identity host (like api.whenfresh.com vs
// id.api.whenfresh.com, Cognito behind it).
//
// Wire rules enforced at POST {IDURL}/oauth2/token:
//   - body is application/x-www-form-urlencoded only;
//   - refresh_token grant: public developer client, client_id =
//     WhenFreshDeveloperClientID in the body, no Authorization header and no
//     client_secret; answers id_token, access_token, expires_in 3600,
//     token_type "Bearer" and NO refresh_token (the refresh token is not
//     rotated and stays valid);
//   - client_credentials grant: HTTP Basic only (client_secret in the body is
//     invalid_client); answers access_token, expires_in, token_type, no
//     refresh_token, no id_token.
//
// Valid accepts the id_token too: WhenFresh (Cognito) APIs accept it, and
// profiles may set use = "id_token". Any other GET on URL is a protected demo
// API (Bearer header).
type WhenFresh struct {
	core
	// URL is the API base: GET URL/.well-known/openid-configuration.
	URL string
	// IDURL is the identity host; TokenURL = IDURL + "/oauth2/token".
	IDURL, TokenURL string
	// DeveloperClientID is WhenFreshDeveloperClientID.
	DeveloperClientID string
	// MachineClientID/MachineClientSecret are the client_credentials client.
	MachineClientID, MachineClientSecret string

	idKey []byte
}

// StartWhenFresh starts the two WhenFresh servers.
func StartWhenFresh() (*WhenFresh, error) {
	e := &WhenFresh{
		core:              newCore("whenfresh", time.Hour),
		DeveloperClientID: WhenFreshDeveloperClientID,
		MachineClientID:   WhenFreshMachineClientID, MachineClientSecret: WhenFreshMachineClientSecret,
		idKey: make([]byte, 32),
	}
	_, _ = rand.Read(e.idKey)

	id := http.NewServeMux()
	id.HandleFunc("POST /oauth2/token", e.token)
	id.HandleFunc("/oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		// WhenFresh: developers use the refresh token from "My Tokens"; the
		// interactive flow is not emulated.
		writeError(w, errf(http.StatusBadRequest, "unsupported_response_type", "whenfresh emulator: use the refresh token from the My Tokens page"))
	})
	idSrv, err := startServer(e.wrap("/oauth2/token", id))
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, idSrv)
	e.IDURL, e.TokenURL = idSrv.URL, idSrv.URL+"/oauth2/token"

	api := http.NewServeMux()
	api.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		// WhenFresh: the document has only these two keys (no issuer, no
		// jwks_uri), and both point to the other host.
		writeJSON(w, http.StatusOK, map[string]string{
			"authorization_endpoint": e.IDURL + "/oauth2/authorize",
			"token_endpoint":         e.TokenURL,
		})
	})
	api.Handle("/", Protect(e.Valid, apiOK("whenfresh")))
	apiSrv, err := startServer(e.wrap("", api))
	if err != nil {
		e.Close()
		return nil, err
	}
	e.servers = append(e.servers, apiSrv)
	e.URL = apiSrv.URL
	return e, nil
}

// IssueRefreshToken creates a developer refresh token, as the "My Tokens"
// page of a WhenFresh account does.
func (e *WhenFresh) IssueRefreshToken() string {
	return e.issueRefresh(grant{family: randToken("fam_"), clientID: WhenFreshDeveloperClientID, subject: "wf-developer"})
}

func (e *WhenFresh) token(w http.ResponseWriter, r *http.Request) {
	if err := e.serveToken(w, r); err != nil {
		writeError(w, err)
	}
}

func (e *WhenFresh) serveToken(w http.ResponseWriter, r *http.Request) *oauthError {
	// WhenFresh: form body only.
	if mediaType(r) != formType {
		return badRequest("whenfresh: Content-Type must be application/x-www-form-urlencoded, got %q", r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("whenfresh: malformed form body: %v", err)
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "refresh_token":
		// WhenFresh: developer access is a public client; client_id in the
		// body, no Authorization header, no secret.
		if r.Header.Get("Authorization") != "" {
			return invalidClient("whenfresh: the developer client is public: send client_id in the body and no Authorization header")
		}
		if f.Has("client_secret") {
			return invalidClient("whenfresh: the developer client is public and has no client_secret")
		}
		if f.Get("client_id") != WhenFreshDeveloperClientID {
			return invalidClient("whenfresh: refresh_token grant needs client_id=%s in the body", WhenFreshDeveloperClientID)
		}
		if f.Get("refresh_token") == "" {
			return badRequest("whenfresh: refresh_token missing")
		}
		g, err := e.useRefresh(f.Get("refresh_token"), WhenFreshDeveloperClientID, noRotation)
		if err != nil {
			return err
		}
		at, exp := e.issueAccess(g, 0)
		now := time.Now()
		idTok := hs256(e.idKey, map[string]any{
			"iss": e.IDURL, "sub": g.subject, "aud": WhenFreshDeveloperClientID, "token_use": "id",
			"iat": now.Unix(), "exp": now.Unix() + exp, "email": "developer@whenfresh.test",
		})
		e.registerAccess(idTok, g, now.Add(time.Duration(exp)*time.Second))
		// WhenFresh: no refresh_token in the answer; the imported one stays valid.
		writeJSON(w, http.StatusOK, map[string]any{"id_token": idTok, "access_token": at, "expires_in": exp, "token_type": "Bearer"})
	case "client_credentials":
		// WhenFresh: machine clients authenticate with HTTP Basic only.
		if f.Has("client_secret") {
			return invalidClient("whenfresh: send client_id and client_secret as an HTTP Basic Authorization header, not in the body")
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			return invalidClient("whenfresh: client_credentials requires HTTP Basic authentication")
		}
		if id != e.MachineClientID || secret != e.MachineClientSecret {
			return invalidClient("whenfresh: wrong client_id or client_secret")
		}
		at, exp := e.issueAccess(grant{family: randToken("fam_"), clientID: id, subject: id, scopes: splitScopes(f.Get("scope"))}, 0)
		writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "expires_in": exp, "token_type": "Bearer"})
	case "":
		return badRequest("whenfresh: grant_type missing")
	default:
		return errf(http.StatusBadRequest, "unsupported_grant_type", "whenfresh: grant_type %q is not supported", f.Get("grant_type"))
	}
	return nil
}
