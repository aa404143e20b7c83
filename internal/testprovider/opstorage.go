package testprovider

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// opStorage is a compact in-memory op.Storage (plus client_credentials and
// device authorization storage). zitadel's example storage is not used: its
// access-token TTL is a hard-coded 5 minutes and its clients live in a
// package-global map.
type opStorage struct {
	mu        sync.Mutex
	ttl       time.Duration
	clients   map[string]*opClient
	user      opUser
	authReqs  map[string]*opAuthRequest
	codes     map[string]string // code -> auth request id
	tokens    map[string]*opToken
	refresh   map[string]*opRefresh // current refresh tokens
	rotated   map[string]string     // rotated-away refresh token -> family
	devices   map[string]*opDevice  // device code ->
	userCodes map[string]string     // user code -> device code
	key       *rsa.PrivateKey
	keyID     string
	reuse     atomic.Int64
	// clientKeys are the public keys of private_key_jwt clients and of
	// jwt-bearer service accounts, by client id (or assertion issuer).
	clientKeys map[string][]jose.JSONWebKey
}

type opUser struct{ id, username, password, email string }

type opToken struct {
	clientID, subject, family string
	scopes                    []string
	expires                   time.Time
}

type opRefresh struct {
	opRefreshRequest
	family string
}

type opDevice struct {
	userCode string
	state    op.DeviceAuthorizationState
	redeemed bool
}

func newOPStorage(ttl time.Duration, clients []*opClient, user opUser) (*opStorage, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &opStorage{
		ttl: ttl, user: user, key: key, keyID: randToken("k"),
		clients:  map[string]*opClient{},
		authReqs: map[string]*opAuthRequest{}, codes: map[string]string{},
		tokens: map[string]*opToken{}, refresh: map[string]*opRefresh{}, rotated: map[string]string{},
		devices: map[string]*opDevice{}, userCodes: map[string]string{},
		clientKeys: map[string][]jose.JSONWebKey{},
	}
	for _, c := range clients {
		s.clients[c.id] = c
	}
	return s, nil
}

// --- auth requests ---

// opAuthRequest implements op.AuthRequest.
type opAuthRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	challenge                               *oidc.CodeChallenge
	userID                                  string
	done                                    bool
	authTime                                time.Time
}

func (a *opAuthRequest) GetID() string                         { return a.id }
func (a *opAuthRequest) GetACR() string                        { return "" }
func (a *opAuthRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *opAuthRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *opAuthRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *opAuthRequest) GetClientID() string                   { return a.clientID }
func (a *opAuthRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *opAuthRequest) GetNonce() string                      { return a.nonce }
func (a *opAuthRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *opAuthRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *opAuthRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *opAuthRequest) GetScopes() []string                   { return a.scopes }
func (a *opAuthRequest) GetState() string                      { return a.state }
func (a *opAuthRequest) GetSubject() string                    { return a.userID }
func (a *opAuthRequest) Done() bool                            { return a.done }

func (s *opStorage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if len(r.Prompt) == 1 && r.Prompt[0] == oidc.PromptNone {
		return nil, oidc.ErrLoginRequired()
	}
	// PKCE: only S256, and mandatory for the public client (zitadel itself
	// would accept "plain" and only notice a missing challenge at the token endpoint).
	if r.CodeChallenge != "" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[r.ClientID]; c != nil && c.auth == oidc.AuthMethodNone && r.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge, S256) is required for public clients")
	}
	a := &opAuthRequest{
		id: randToken("ar_"), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State, nonce: r.Nonce,
		scopes: slices.Clone([]string(r.Scopes)), responseType: r.ResponseType, responseMode: r.ResponseMode, userID: userID,
	}
	if r.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.authReqs[a.id] = a
	cp := *a
	return &cp, nil
}

func (s *opStorage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok {
		return nil, errors.New("auth request not found")
	}
	cp := *a
	return &cp, nil
}

func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or already used")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *opStorage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest runs after a code was redeemed: the code becomes invalid.
func (s *opStorage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authReqs, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// completeLogin marks an auth request as authenticated by the test user.
func (s *opStorage) completeLogin(id, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authReqs[id]
	if !ok {
		return errors.New("unknown or expired login request")
	}
	if username != s.user.username || password != s.user.password {
		return errors.New("wrong username or password")
	}
	a.userID, a.done, a.authTime = s.user.id, true, time.Now()
	return nil
}

// --- tokens ---

func requestClientID(r op.TokenRequest) string {
	switch r := r.(type) {
	case *opAuthRequest:
		return r.clientID
	case *opRefreshRequest:
		return r.clientID
	case *opCCRequest:
		return r.clientID
	case *op.DeviceAuthorizationState:
		return r.ClientID
	case op.TokenExchangeRequest:
		return r.GetClientID()
	}
	return ""
}

// newAccess stores an access token. The expiry handed to zitadel is TTL+500ms
// because zitadel computes expires_in by truncating exp-now: without the
// slack a 2s TTL would be announced as expires_in=1.
func (s *opStorage) newAccess(r op.TokenRequest, family string) (string, time.Time) {
	id := randToken("at_")
	exp := time.Now().Add(s.ttl + 500*time.Millisecond)
	s.tokens[id] = &opToken{clientID: requestClientID(r), subject: r.GetSubject(), family: family, scopes: r.GetScopes(), expires: exp}
	return id, exp
}

func (s *opStorage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, exp := s.newAccess(r, "")
	return id, exp, nil
}

// CreateAccessAndRefreshTokens issues a new family (code/device flow) or
// rotates currentRefreshToken. Losing a rotation race counts as reuse.
func (s *opStorage) CreateAccessAndRefreshTokens(_ context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	family := randToken("fam_")
	if current != "" {
		old, ok := s.refresh[current]
		if !ok {
			s.detectReuseLocked(current)
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used or revoked")
		}
		delete(s.refresh, current)
		s.rotated[current] = old.family
		family = old.family
	}
	id, exp := s.newAccess(r, family)
	rt := randToken("rt_")
	rr := &opRefresh{family: family, opRefreshRequest: opRefreshRequest{
		clientID: requestClientID(r), subject: r.GetSubject(), scopes: slices.Clone(r.GetScopes()), authTime: time.Now(), amr: []string{"pwd"},
	}}
	if a, ok := r.(*opAuthRequest); ok {
		rr.authTime = a.authTime
	}
	if old, ok := r.(*opRefreshRequest); ok {
		rr.authTime, rr.amr = old.authTime, old.amr
	}
	s.refresh[rt] = rr
	return id, rt, exp, nil
}

// detectReuseLocked counts a rotated-away refresh token and revokes its family.
func (s *opStorage) detectReuseLocked(token string) {
	family, ok := s.rotated[token]
	if !ok {
		return
	}
	s.reuse.Add(1)
	for t, r := range s.refresh {
		if r.family == family {
			delete(s.refresh, t)
		}
	}
	for id, t := range s.tokens {
		if t.family == family {
			delete(s.tokens, id)
		}
	}
}

// opRefreshRequest implements op.RefreshTokenRequest.
type opRefreshRequest struct {
	clientID, subject string
	scopes, amr       []string
	authTime          time.Time
}

func (r *opRefreshRequest) GetAMR() []string             { return r.amr }
func (r *opRefreshRequest) GetAudience() []string        { return []string{r.clientID} }
func (r *opRefreshRequest) GetAuthTime() time.Time       { return r.authTime }
func (r *opRefreshRequest) GetClientID() string          { return r.clientID }
func (r *opRefreshRequest) GetScopes() []string          { return r.scopes }
func (r *opRefreshRequest) GetSubject() string           { return r.subject }
func (r *opRefreshRequest) SetCurrentScopes(sc []string) { r.scopes = sc }

func (s *opStorage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refresh[token]
	if !ok {
		s.detectReuseLocked(token)
		return nil, errors.New("unknown, rotated or revoked refresh token")
	}
	cp := r.opRefreshRequest
	cp.scopes = slices.Clone(cp.scopes)
	return &cp, nil
}

func (s *opStorage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	for rt, r := range s.refresh {
		if r.subject == userID && r.clientID == clientID {
			delete(s.refresh, rt)
		}
	}
	return nil
}

func (s *opStorage) GetRefreshTokenInfo(_ context.Context, _ string, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refresh[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return r.subject, token, nil
}

// RevokeToken (RFC 7009) revokes an access token by id, or a refresh token
// together with every access token of its family.
func (s *opStorage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.tokens, tokenOrID)
		return nil
	}
	if r, ok := s.refresh[tokenOrID]; ok {
		if r.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.refresh, tokenOrID)
		for id, t := range s.tokens {
			if t.family == r.family {
				delete(s.tokens, id)
			}
		}
	}
	return nil // unknown tokens: nothing to do (RFC 7009 §2.2)
}

// valid reports whether the access token id is live.
func (s *opStorage) valid(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	return ok && time.Now().Before(t.expires)
}

func (s *opStorage) revokeAllAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

func (s *opStorage) setTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttl = d
}

// --- keys ---

type opKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k opKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k opKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k opKey) ID() string                                  { return k.id }
func (k opKey) Use() string                                 { return "sig" }

type opPrivateKey struct{ opKey }

func (k opPrivateKey) Key() any { return k.key }

type opPublicKey struct{ opKey }

func (k opPublicKey) Key() any { return &k.key.PublicKey }

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	return opPrivateKey{opKey{s.keyID, s.key}}, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{opPublicKey{opKey{s.keyID, s.key}}}, nil
}

// --- clients and users ---

func (s *opStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, errors.New("unknown client_id")
	}
	return c, nil
}

func (s *opStorage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || c.secret == "" || c.secret != secret {
		return errors.New("wrong client_id or client_secret")
	}
	return nil
}

func (s *opStorage) setUserinfo(u *oidc.UserInfo, subject string, scopes []string) {
	u.Subject = subject
	if subject != s.user.id {
		return // a client_credentials client has no profile
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			u.PreferredUsername, u.Name = s.user.username, "Test User"
		case oidc.ScopeEmail:
			u.Email, u.EmailVerified = s.user.email, true
		}
	}
}

func (s *opStorage) SetUserinfoFromScopes(_ context.Context, u *oidc.UserInfo, userID, _ string, scopes []string) error {
	s.setUserinfo(u, userID, scopes)
	return nil
}

func (s *opStorage) SetUserinfoFromToken(_ context.Context, u *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("token is invalid or expired")
	}
	s.setUserinfo(u, subject, t.scopes)
	return nil
}

func (s *opStorage) SetIntrospectionFromToken(_ context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expires) {
		return errors.New("token is invalid or expired")
	}
	u := new(oidc.UserInfo)
	s.setUserinfo(u, subject, t.scopes)
	in.SetUserInfo(u)
	in.Scope, in.ClientID, in.Expiration = t.scopes, t.clientID, oidc.FromTime(t.expires)
	return nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID returns a registered public key (RFC 7523): by kid,
// or the client's only key when the assertion names none.
func (s *opStorage) GetKeyByIDAndClientID(_ context.Context, kid, clientID string) (*jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.clientKeys[clientID]
	for i := range keys {
		if keys[i].KeyID == kid || (kid == "" && len(keys) == 1) {
			return &keys[i], nil
		}
	}
	return nil, fmt.Errorf("no key %q registered for %q", kid, clientID)
}

func (s *opStorage) registerKey(clientID string, k jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientKeys[clientID] = append(s.clientKeys[clientID], k)
}

// ValidateJWTProfileScopes allows the jwt-bearer grant (RFC 7523 §2.1) of a
// service account with a registered key any scope it asks for.
func (s *opStorage) ValidateJWTProfileScopes(_ context.Context, userID string, scopes []string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clientKeys[userID]) == 0 {
		return nil, errors.New("no service account " + userID)
	}
	return scopes, nil
}

// --- token exchange (RFC 8693) ---

// ValidateTokenExchangeRequest issues an access token unless another type
// is asked for; subject tokens are the OP's own (zitadel verifies them).
func (s *opStorage) ValidateTokenExchangeRequest(_ context.Context, r op.TokenExchangeRequest) error {
	if r.GetRequestedTokenType() == "" {
		r.SetRequestedTokenType(oidc.AccessTokenType)
	}
	if r.GetExchangeSubjectTokenType() != oidc.AccessTokenType {
		return oidc.ErrInvalidRequest().WithDescription("this OP exchanges its own access tokens only")
	}
	return nil
}

func (s *opStorage) CreateTokenExchangeRequest(context.Context, op.TokenExchangeRequest) error {
	return nil
}

func (s *opStorage) GetPrivateClaimsFromTokenExchangeRequest(context.Context, op.TokenExchangeRequest) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) SetUserinfoFromTokenExchangeRequest(_ context.Context, u *oidc.UserInfo, r op.TokenExchangeRequest) error {
	s.setUserinfo(u, r.GetSubject(), r.GetScopes())
	return nil
}

func (s *opStorage) Health(context.Context) error { return nil }

// --- client_credentials ---

// opCCRequest is the token request of a client_credentials grant.
type opCCRequest struct {
	clientID string
	scopes   []string
}

func (r *opCCRequest) GetSubject() string    { return r.clientID }
func (r *opCCRequest) GetAudience() []string { return []string{r.clientID} }
func (r *opCCRequest) GetScopes() []string   { return r.scopes }

func (s *opStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, id)
}

func (s *opStorage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	return &opCCRequest{clientID: id, scopes: scopes}, nil
}

// --- device authorization (RFC 8628) ---

func (s *opStorage) StoreDeviceAuthorization(_ context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[clientID]; !ok {
		return errors.New("unknown client")
	}
	if _, ok := s.userCodes[userCode]; ok {
		return op.ErrDuplicateUserCode
	}
	s.devices[deviceCode] = &opDevice{userCode: userCode, state: op.DeviceAuthorizationState{ClientID: clientID, Scopes: scopes, Expires: expires}}
	s.userCodes[userCode] = deviceCode
	return nil
}

// GetDeviceAuthorizatonState (sic: zitadel's spelling) is polled by the token
// endpoint. An approved device code is redeemable once.
func (s *opStorage) GetDeviceAuthorizatonState(_ context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[deviceCode]
	if !ok || d.state.ClientID != clientID || d.redeemed {
		return nil, errors.New("unknown or already redeemed device code")
	}
	if d.state.Done {
		d.redeemed = true
	}
	st := d.state
	return &st, nil
}

// decideDevice approves or denies a pending device authorization.
func (s *opStorage) decideDevice(userCode, username, password string, allow bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCodes[userCode]]
	switch {
	case !ok:
		return errors.New("unknown user code")
	case username != s.user.username || password != s.user.password:
		return errors.New("wrong username or password")
	case time.Now().After(d.state.Expires):
		return errors.New("user code expired")
	case d.state.Done || d.state.Denied:
		return errors.New("user code already used")
	}
	if allow {
		d.state.Done, d.state.Subject, d.state.AuthTime = true, s.user.id, time.Now()
	} else {
		d.state.Denied = true
	}
	return nil
}

func (s *opStorage) deviceClientID(userCode string) (string, []string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCodes[userCode]]
	if !ok {
		return "", nil, false
	}
	return d.state.ClientID, d.state.Scopes, true
}

// opClient implements op.Client and op.HasRedirectGlobs.
type opClient struct {
	id, secret    string
	appType       op.ApplicationType
	auth          oidc.AuthMethod
	redirects     []string
	globs         []string
	grants        []oidc.GrantType
	responseTypes []oidc.ResponseType
	loginURL      func(string) string
}

func (c *opClient) GetID() string                        { return c.id }
func (c *opClient) RedirectURIs() []string               { return c.redirects }
func (c *opClient) RedirectURIGlobs() []string           { return c.globs }
func (c *opClient) PostLogoutRedirectURIs() []string     { return nil }
func (c *opClient) PostLogoutRedirectURIGlobs() []string { return nil }
func (c *opClient) ApplicationType() op.ApplicationType  { return c.appType }
func (c *opClient) AuthMethod() oidc.AuthMethod          { return c.auth }
func (c *opClient) ResponseTypes() []oidc.ResponseType   { return c.responseTypes }
func (c *opClient) GrantTypes() []oidc.GrantType         { return c.grants }
func (c *opClient) LoginURL(id string) string            { return c.loginURL(id) }
func (c *opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *opClient) IDTokenLifetime() time.Duration       { return time.Hour }
func (c *opClient) DevMode() bool                        { return false }
func (c *opClient) IsScopeAllowed(string) bool           { return true }
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *opClient) ClockSkew() time.Duration             { return 0 }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
