package testprovider

import (
	"crypto/rand"
	"net/http"
	"strings"
	"time"
)

// Fixed Bulky values (test values).
const (
	BulkyClientID     = "bulky-client"
	BulkyClientSecret = "bulky-secret"
)

// Bulky emulates a provider with large tokens, as Entra ID issues them:
// JWT access and ID tokens carrying group and role claims, so that one
// profile's token state (access, ID and refresh token) is StateSize bytes
// or more, beyond what Windows Credential Manager (2,560 bytes per blob) or
// a non-root user's keyctl quota (20,000 bytes in all) can hold.
//
// Wire rules enforced at POST {URL}/token: form body; a confidential
// client authenticated with HTTP Basic (client_secret in the body is
// invalid_client); refresh_token grant only; the refresh token rotates on
// every use, and presenting a rotated one revokes its grant (Whiplash
// style), counted in ReuseDetections. Any other GET on URL is a protected
// API (Bearer header).
type Bulky struct {
	core
	URL, TokenURL          string
	ClientID, ClientSecret string
	// StateSize is about how many bytes the access and ID token of one
	// answer take together.
	StateSize int

	key []byte
}

// StartBulky starts the emulator; its token states are about stateSize bytes.
func StartBulky(stateSize int) (*Bulky, error) {
	b := &Bulky{core: newCore("bulky", 30*time.Minute), ClientID: BulkyClientID, ClientSecret: BulkyClientSecret, StateSize: stateSize, key: make([]byte, 32)}
	_, _ = rand.Read(b.key)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", b.token)
	mux.Handle("/", Protect(b.Valid, apiOK("bulky")))
	srv, err := startServer(b.wrap("/token", mux))
	if err != nil {
		return nil, err
	}
	b.servers = append(b.servers, srv)
	b.URL, b.TokenURL = srv.URL, srv.URL+"/token"
	return b, nil
}

// IssueRefreshToken starts a grant and returns its first refresh token, as
// a login elsewhere would.
func (b *Bulky) IssueRefreshToken(subject string) string {
	return b.issueRefresh(grant{family: randToken("fam_"), clientID: b.ClientID, subject: subject})
}

// groups is a claim of about n bytes: a list of group ids.
func groups(n int) []string {
	var g []string
	for size := 0; size < n; size += 40 {
		g = append(g, randToken("grp_"))
	}
	return g
}

func (b *Bulky) token(w http.ResponseWriter, r *http.Request) {
	if err := b.serveToken(w, r); err != nil {
		writeError(w, err)
	}
}

func (b *Bulky) serveToken(w http.ResponseWriter, r *http.Request) *oauthError {
	if mediaType(r) != formType {
		return badRequest("bulky: Content-Type must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("bulky: malformed form body: %v", err)
	}
	if r.PostForm.Has("client_secret") {
		return invalidClient("bulky: send the client secret with HTTP Basic, not in the body")
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != b.ClientID || secret != b.ClientSecret {
		return invalidClient("bulky: wrong or missing HTTP Basic client credentials")
	}
	if gt := r.PostForm.Get("grant_type"); gt != "refresh_token" {
		return errf(http.StatusBadRequest, "unsupported_grant_type", "bulky: grant_type %q is not supported", gt)
	}
	g, err := b.useRefresh(r.PostForm.Get("refresh_token"), b.ClientID, rotateRevokeAll)
	if err != nil {
		return err
	}
	b.mu.Lock()
	ttl := b.ttl
	b.mu.Unlock()
	now := time.Now()
	exp := now.Add(time.Duration(expiresIn(ttl)) * time.Second)
	claims := func(use string) map[string]any {
		return map[string]any{
			"iss": b.URL, "sub": g.subject, "aud": b.ClientID, "token_use": use,
			"iat": now.Unix(), "exp": exp.Unix(), "jti": randToken("jti_"),
			"groups": groups(b.StateSize / 2 * 3 / 4), // base64 grows JSON by 4/3
		}
	}
	at, id2 := hs256(b.key, claims("access")), hs256(b.key, claims("id"))
	b.registerAccess(at, g, exp)
	b.registerAccess(id2, g, exp)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": at, "id_token": id2, "token_type": "Bearer",
		"expires_in": expiresIn(ttl), "refresh_token": b.issueRefresh(g),
		"scope": strings.Join([]string{"openid", "offline_access"}, " "),
	})
	return nil
}
