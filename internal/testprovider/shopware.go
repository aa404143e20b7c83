package testprovider

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"
)

// Fixed Shopware values (test values).
const (
	ShopwareAdminClientID       = "administration"
	ShopwareIntegrationID       = "SWIAEMULATORTESTINTEGRATION1"
	ShopwareIntegrationSecret   = "shopware-integration-secret"
	ShopwareAdminUsername       = "admin"
	ShopwareAdminPassword       = "shopware"
	shopwareTokenPath           = "/api/oauth/token"
	shopwareDefaultAccessTTL    = 10 * time.Minute
	shopwareScopesAllowedString = "write admin user-verified"
)

// Shopware emulates the Shopware Admin API (seed 001).
//
// Wire rules enforced at POST {URL}/api/oauth/token:
//   - body is application/json only (a form body is 400 invalid_request);
//     values are JSON strings; no HTTP Basic (401 invalid_client);
//   - client_credentials: client_id and client_secret in the JSON body
//     (an integration), no refresh_token in the answer;
//   - password: client_id "administration", username, password and the scope
//     list under the key "scopes" (a "scope" key is 400 invalid_request);
//     answers a refresh_token;
//   - refresh_token: client_id "administration"; the refresh token rotates on
//     every use and the old one is then invalid_grant (counted in
//     ReuseDetections; the rest of the chain stays valid).
//
// Answers are {"token_type":"Bearer","expires_in":600,"access_token":...
// [,"refresh_token":...]}. Any other path is a protected demo API.
type Shopware struct {
	core
	// URL is the shop base; TokenURL = URL + "/api/oauth/token".
	URL, TokenURL string
	// AdminClientID is "administration" (password and refresh_token grants).
	AdminClientID string
	// ClientID/ClientSecret are an integration (client_credentials).
	ClientID, ClientSecret string
	// Username/Password are the admin user (password grant).
	Username, Password string
}

// StartShopware starts a Shopware emulator.
func StartShopware() (*Shopware, error) {
	e := &Shopware{
		core:          newCore("shopware", shopwareDefaultAccessTTL),
		AdminClientID: ShopwareAdminClientID,
		ClientID:      ShopwareIntegrationID, ClientSecret: ShopwareIntegrationSecret,
		Username: ShopwareAdminUsername, Password: ShopwareAdminPassword,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+shopwareTokenPath, func(w http.ResponseWriter, r *http.Request) {
		if err := e.serveToken(w, r); err != nil {
			writeError(w, err)
		}
	})
	mux.Handle("/", Protect(e.Valid, apiOK("shopware")))
	srv, err := startServer(e.wrap(shopwareTokenPath, mux))
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, srv)
	e.URL, e.TokenURL = srv.URL, srv.URL+shopwareTokenPath
	return e, nil
}

// IssueRefreshToken creates a refresh token of the admin user, as a password
// grant would.
func (e *Shopware) IssueRefreshToken() string {
	return e.issueRefresh(grant{family: randToken("fam_"), clientID: ShopwareAdminClientID, subject: e.Username, scopes: []string{"write"}})
}

func (e *Shopware) serveToken(w http.ResponseWriter, r *http.Request) *oauthError {
	// Shopware: JSON body only, credentials in it, never HTTP Basic.
	if mediaType(r) != jsonType {
		return badRequest("shopware: Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))
	}
	if r.Header.Get("Authorization") != "" {
		return invalidClient("shopware: send client_id/client_secret in the JSON body, not in an Authorization header")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return badRequest("shopware: reading body: %v", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return badRequest("shopware: body is not a JSON object: %v", err)
	}
	b := map[string]string{}
	for k, v := range fields {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return badRequest("shopware: %q must be a JSON string", k)
		}
		b[k] = s
	}
	// Shopware: the scope list is "scopes", not RFC 6749's "scope".
	if _, ok := b["scope"]; ok {
		return badRequest("shopware: unknown key \"scope\"; Shopware expects \"scopes\"")
	}
	scopes := splitScopes(b["scopes"])
	for _, s := range scopes {
		if !slices.Contains(splitScopes(shopwareScopesAllowedString), s) {
			return errf(http.StatusBadRequest, "invalid_scope", "shopware: unknown scope %q", s)
		}
	}

	switch b["grant_type"] {
	case "client_credentials":
		if b["client_id"] != e.ClientID || b["client_secret"] != e.ClientSecret {
			return invalidClient("shopware: wrong client_id or client_secret (integration credentials go in the JSON body)")
		}
		at, exp := e.issueAccess(grant{family: randToken("fam_"), clientID: e.ClientID, subject: e.ClientID, scopes: scopes}, 0)
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": exp, "access_token": at})
	case "password":
		if b["client_id"] != ShopwareAdminClientID {
			return invalidClient("shopware: the password grant is only available to client_id %q", ShopwareAdminClientID)
		}
		if b["username"] != e.Username || b["password"] != e.Password {
			return invalidGrant("shopware: the user credentials were incorrect")
		}
		if len(scopes) == 0 {
			scopes = []string{"write"}
		}
		e.answerWithRefresh(w, grant{family: randToken("fam_"), clientID: ShopwareAdminClientID, subject: e.Username, scopes: scopes})
	case "refresh_token":
		if b["client_id"] != ShopwareAdminClientID {
			return invalidClient("shopware: the refresh_token grant is only available to client_id %q", ShopwareAdminClientID)
		}
		if b["refresh_token"] == "" {
			return badRequest("shopware: refresh_token missing")
		}
		g, err := e.useRefresh(b["refresh_token"], ShopwareAdminClientID, rotateReject)
		if err != nil {
			return err
		}
		e.answerWithRefresh(w, g)
	case "":
		return badRequest("shopware: grant_type missing")
	default:
		return errf(http.StatusBadRequest, "unsupported_grant_type", "shopware: grant_type %q is not supported", b["grant_type"])
	}
	return nil
}

func (e *Shopware) answerWithRefresh(w http.ResponseWriter, g grant) {
	at, exp := e.issueAccess(g, 0)
	rt := e.issueRefresh(g)
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": exp, "access_token": at, "refresh_token": rt})
}
