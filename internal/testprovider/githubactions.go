package testprovider

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// GitHubActions emulates the OIDC token service of a GitHub Actions job
// with permissions: id-token: write.
//
// GET RequestURL&audience=AUD with "Authorization: bearer RequestToken"
// answers {"value": JWT}: RS256 with the service's own key, iss = URL,
// sub = Subject, aud = AUD (default https://github.com/acme), 5 minutes.
// GET /.well-known/openid-configuration and /.well-known/jwks publish the
// key, as token.actions.githubusercontent.com does. A missing or wrong
// bearer is 401; a missing api-version is 400.
type GitHubActions struct {
	// URL is the issuer (http://127.0.0.1:PORT).
	URL string
	// RequestURL and RequestToken are what the runner puts in
	// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	RequestURL, RequestToken string
	// Subject is the sub claim: the repository and ref of the job.
	Subject string
	// JWKSURL serves the public key.
	JWKSURL string

	key      *jose.JSONWebKey
	srv      *server
	requests atomic.Int64
}

// StartGitHubActions starts the emulator on 127.0.0.1.
func StartGitHubActions() (*GitHubActions, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	g := &GitHubActions{
		RequestToken: randToken("ghs_runtime_"),
		Subject:      "repo:acme/app:ref:refs/heads/main",
		key:          &jose.JSONWebKey{Key: k, KeyID: randToken("gha")[:12], Algorithm: string(jose.RS256), Use: "sig"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_apis/token", g.token)
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{g.key.Public()}})
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"issuer": g.URL, "jwks_uri": g.JWKSURL, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	srv, err := startServer(mux)
	if err != nil {
		return nil, err
	}
	g.srv, g.URL = srv, srv.URL
	g.RequestURL = g.URL + "/_apis/token?api-version=2.0"
	g.JWKSURL = g.URL + "/.well-known/jwks"
	return g, nil
}

// Close stops the server.
func (g *GitHubActions) Close() error { return g.srv.close() }

// Requests counts the token requests that got a token.
func (g *GitHubActions) Requests() int64 { return g.requests.Load() }

func (g *GitHubActions) token(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || tok != g.RequestToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials: the request token is missing or wrong"})
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "api-version is required"})
		return
	}
	aud := r.URL.Query().Get("audience")
	if aud == "" {
		aud = "https://github.com/acme"
	}
	v, err := g.Mint(g.Subject, aud, 5*time.Minute)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	g.requests.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{"count": 1, "value": v})
}

// Mint signs a job token with the service's key: the way tests build
// expired, wrong-audience or wrong-subject tokens for file: and env:
// sources. A negative ttl makes an already expired token.
func (g *GitHubActions) Mint(sub, aud string, ttl time.Duration) (string, error) {
	return signJWT(g.key, jwt.Claims{
		Issuer: g.URL, Subject: sub, Audience: jwt.Audience{aud},
		ID: randToken("")[:16], IssuedAt: jwt.NewNumericDate(time.Now().Add(min(ttl, 0) - time.Minute)),
		NotBefore: jwt.NewNumericDate(time.Now().Add(min(ttl, 0) - time.Minute)), Expiry: jwt.NewNumericDate(time.Now().Add(ttl)),
	}, map[string]any{"repository": "acme/app", "ref": "refs/heads/main", "job_workflow_ref": "acme/app/.github/workflows/ci.yml@refs/heads/main"})
}

// signJWT signs claims (plus extra) with key, its kid in the header.
func signJWT(key *jose.JSONWebKey, claims jwt.Claims, extra map[string]any) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("testprovider: signer: %w", err)
	}
	b := jwt.Signed(sig).Claims(claims)
	if extra != nil {
		b = b.Claims(extra)
	}
	return b.Serialize()
}
