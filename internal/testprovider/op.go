package testprovider

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// OPOptions configures [StartOP].
type OPOptions struct {
	// AccessTTL is the lifetime of access tokens (default 5m). expires_in
	// announces it in whole seconds; the server honours a token up to 0.5s
	// longer than announced.
	AccessTTL time.Duration
}

// Fixed credentials of the OP (test values).
const (
	OPConfidentialClientID     = "lanyard-confidential"
	OPConfidentialClientSecret = "lanyard-confidential-secret"
	OPPublicClientID           = "lanyard-cli"
	OPKeyClientID              = "lanyard-key"  // private_key_jwt
	OPServiceAccount           = "svc-deployer" // jwt-bearer grant issuer

	OPUsername = "alice"
	OPPassword = "alice-password"
)

// OP is a real OpenID provider (zitadel/oidc op package) on 127.0.0.1.
//
// Endpoints (all under Issuer): /.well-known/openid-configuration, /authorize,
// /oauth/token, /revoke, /device_authorization, /userinfo, /keys,
// /oauth/introspect, plus the login page /login and the device verification
// page /device.
//
// Clients:
//   - ConfidentialClientID/Secret: a "web" client authenticating with HTTP
//     Basic (client_secret_post also works); grants client_credentials,
//     authorization_code (redirect http://127.0.0.1:ANY/ANY-PATH) and
//     refresh_token.
//   - PublicClientID: a "native" public client (token_endpoint_auth_method
//     none, client_id in the body); authorization_code with PKCE S256
//     (mandatory), loopback redirects http://127.0.0.1 or http://localhost
//     on any port and path, device_code, refresh_token. Refresh tokens are
//     issued only when offline_access was requested.
//
// Refresh tokens rotate on every use. Presenting a rotated-away refresh token
// is invalid_grant, counts in ReuseDetections and revokes its whole family.
type OP struct {
	// Issuer is the base URL (http://127.0.0.1:PORT) and the "iss" of id_tokens.
	Issuer string
	// TokenURL, AuthURL, DeviceAuthURL and RevocationURL are the endpoints
	// discovery announces, for tests that configure them explicitly.
	TokenURL, AuthURL, DeviceAuthURL, RevocationURL string

	ConfidentialClientID, ConfidentialClientSecret string // client_secret_basic client
	PublicClientID                                 string // native public client
	Username, Password                             string // the test user

	provider *op.Provider
	storage  *opStorage
	srv      *server
	tokenReq atomic.Int64
}

// StartOP starts an OP on 127.0.0.1 with a random port.
func StartOP(opt OPOptions) (*OP, error) {
	if opt.AccessTTL <= 0 {
		opt.AccessTTL = 5 * time.Minute
	}
	o := &OP{
		ConfidentialClientID: OPConfidentialClientID, ConfidentialClientSecret: OPConfidentialClientSecret,
		PublicClientID: OPPublicClientID, Username: OPUsername, Password: OPPassword,
	}
	login := func(id string) string { return "/login?authRequestID=" + url.QueryEscape(id) }
	loopback := []string{"http://127.0.0.1:*/**", "http://127.0.0.1/**", "http://localhost:*/**", "http://localhost/**"}
	clients := []*opClient{{
		id: OPConfidentialClientID, secret: OPConfidentialClientSecret,
		appType: op.ApplicationTypeWeb, auth: oidc.AuthMethodBasic,
		globs:         loopback,
		grants:        []oidc.GrantType{oidc.GrantTypeClientCredentials, oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeTokenExchange},
		responseTypes: []oidc.ResponseType{oidc.ResponseTypeCode}, loginURL: login,
	}, {
		id: OPKeyClientID, appType: op.ApplicationTypeWeb, auth: oidc.AuthMethodPrivateKeyJWT,
		globs:         loopback,
		grants:        []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken},
		responseTypes: []oidc.ResponseType{oidc.ResponseTypeCode}, loginURL: login,
	}, {
		id: OPPublicClientID, appType: op.ApplicationTypeNative, auth: oidc.AuthMethodNone,
		redirects: []string{"http://127.0.0.1/callback", "http://localhost/callback"}, globs: loopback,
		grants:        []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode},
		responseTypes: []oidc.ResponseType{oidc.ResponseTypeCode}, loginURL: login,
	}}
	st, err := newOPStorage(opt.AccessTTL, clients, opUser{id: "user-alice", username: OPUsername, password: OPPassword, email: "alice@example.test"})
	if err != nil {
		return nil, err
	}
	o.storage = st

	// The issuer must be known before the provider exists, and the provider
	// before the server serves: a late-bound handler closes the loop.
	var handler atomic.Pointer[http.Handler]
	srv, err := startServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	if err != nil {
		return nil, err
	}
	o.srv, o.Issuer = srv, srv.URL

	cfg := &op.Config{
		CryptoKey:               sha256.Sum256([]byte(randToken("crypto"))),
		CryptoKeyId:             "k1",
		CodeMethodS256:          true,
		AuthMethodPost:          true,
		AuthMethodPrivateKeyJWT: true,
		GrantTypeRefreshToken:   true,
		SupportedUILocales:      []language.Tag{language.English},
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     5 * time.Minute,
			PollInterval: time.Second, // interval=1 (0 would make clients fall back to 5s)
			UserFormPath: "/device",
			UserCode:     op.UserCodeBase20,
		},
	}
	p, err := op.NewProvider(cfg, st, op.StaticIssuer(o.Issuer), op.WithAllowInsecure())
	if err != nil {
		srv.close()
		return nil, err
	}
	o.provider = p
	o.TokenURL = p.TokenEndpoint().Absolute(o.Issuer)
	o.AuthURL = p.AuthorizationEndpoint().Absolute(o.Issuer)
	o.DeviceAuthURL = p.DeviceAuthorizationEndpoint().Absolute(o.Issuer)
	o.RevocationURL = p.RevocationEndpoint().Absolute(o.Issuer)

	issuerMW := op.NewIssuerInterceptor(p.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.Handle("/login", issuerMW.HandlerFunc(o.loginHandler))
	mux.HandleFunc("/device", o.deviceHandler)
	mux.Handle("/", p)
	h := lanyardEndpoints("/"+strings.TrimPrefix(p.TokenEndpoint().Relative(), "/"), &o.tokenReq, o.ReuseDetections, o.RevokeAllAccessTokens, mux)
	handler.Store(&h)
	return o, nil
}

// Close stops the server.
func (o *OP) Close() error { return o.srv.close() }

// RegisterClientKey trusts pub, with key id kid ("" for none), for
// assertions of clientID: OPKeyClientID's private_key_jwt or
// OPServiceAccount's jwt-bearer grant.
func (o *OP) RegisterClientKey(clientID string, pub any, kid string) {
	o.storage.registerKey(clientID, jose.JSONWebKey{Key: pub, KeyID: kid})
}

// TokenRequests counts every POST to the token endpoint.
func (o *OP) TokenRequests() int64 { return o.tokenReq.Load() }

// ReuseDetections counts presentations of rotated-away refresh tokens.
func (o *OP) ReuseDetections() int64 { return o.storage.reuse.Load() }

// SetAccessTTL changes the lifetime of access tokens issued from now on.
func (o *OP) SetAccessTTL(d time.Duration) { o.storage.setTTL(d) }

// Valid reports whether accessToken was issued by this OP and is neither
// expired nor revoked (RFC 7009 revocation, rotation reuse, or
// RevokeAllAccessTokens).
func (o *OP) Valid(accessToken string) bool {
	plain, err := o.provider.Crypto().Decrypt(accessToken)
	if err != nil {
		return false
	}
	id, _, ok := strings.Cut(plain, ":")
	return ok && o.storage.valid(id)
}

// RevokeAllAccessTokens invalidates every access token issued so far; refresh
// tokens stay valid.
func (o *OP) RevokeAllAccessTokens() { o.storage.revokeAllAccess() }

// ScriptedLogin plays the test user in a browser: it GETs authorizeURL,
// follows redirects on the OP, submits the login form with Username/Password
// and returns the final redirect to the client's redirect_uri (with code and
// state, or error and error_description) without following it.
func (o *OP) ScriptedLogin(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return scripted(ctx, o.Issuer, authorizeURL, o.Username, o.Password, true)
}

// ScriptedLoginFormPost is ScriptedLogin for response_mode=form_post: it
// returns the address the provider's page posts to (the client's
// redirect_uri) and the form it posts (code and state), without posting.
func (o *OP) ScriptedLoginFormPost(ctx context.Context, authorizeURL string) (*url.URL, url.Values, error) {
	a, err := newAgent(o.Issuer)
	if err != nil {
		return nil, nil, err
	}
	u, form, err := a.runForm(ctx, authorizeURL, url.Values{"username": {o.Username}, "password": {o.Password}, "action": {"allow"}})
	if err == nil && form == nil {
		return nil, nil, fmt.Errorf("testprovider: the provider redirected to %s instead of posting a form", u)
	}
	return u, form, err
}

// ScriptedDeny is ScriptedLogin with the user pressing "Deny": the returned
// redirect carries error=access_denied and the request's state.
func (o *OP) ScriptedDeny(ctx context.Context, authorizeURL string) (*url.URL, error) {
	return scripted(ctx, o.Issuer, authorizeURL, o.Username, o.Password, false)
}

// ApproveDevice approves the pending device authorization userCode as the test
// user, through the verification page (verification_uri_complete) like a
// browser would.
func (o *OP) ApproveDevice(ctx context.Context, userCode string) error {
	return o.decideDevice(ctx, userCode, true)
}

// DenyDevice denies the pending device authorization userCode; the client's
// next poll gets access_denied.
func (o *OP) DenyDevice(ctx context.Context, userCode string) error {
	return o.decideDevice(ctx, userCode, false)
}

func (o *OP) decideDevice(ctx context.Context, userCode string, allow bool) error {
	a, err := newAgent(o.Issuer)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.Issuer+"/device?user_code="+url.QueryEscape(userCode), nil)
	if err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || formRE.Find(page) == nil {
		return fmt.Errorf("testprovider: device page: status %d: %.200s", resp.StatusCode, page)
	}
	action := "allow"
	if !allow {
		action = "deny"
	}
	form := url.Values{"user_code": {userCode}, "username": {o.Username}, "password": {o.Password}, "action": {action}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, o.Issuer+"/device", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", formType)
	resp, err = a.client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("testprovider: device approval: status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// loginHandler is the OP's login UI: GET shows the form, POST checks the test
// user and hands back to zitadel's callback, or denies.
func (o *OP) loginHandler(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.Form.Get("authRequestID")
	if r.Method == http.MethodGet {
		loginPage(w, http.StatusOK, "Sign in to the lanyard test OP", "/login", url.Values{"authRequestID": {id}}, "")
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.PostForm.Get("action") == "deny" {
		ar, err := o.storage.AuthRequestByID(r.Context(), id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the user denied the request"), o.provider)
		return
	}
	if err := o.storage.completeLogin(id, r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
		loginPage(w, http.StatusOK, "Sign in to the lanyard test OP", "/login", url.Values{"authRequestID": {id}}, err.Error())
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(o.provider)(r.Context(), id), http.StatusFound)
}

// deviceHandler is the verification page of the device flow (RFC 8628 §3.3).
func (o *OP) deviceHandler(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	code := strings.ToUpper(strings.TrimSpace(r.Form.Get("user_code")))
	switch r.Method {
	case http.MethodGet:
		msg := ""
		if code != "" {
			if client, scopes, ok := o.storage.deviceClientID(code); ok {
				msg = fmt.Sprintf("%s asks for: %s", client, strings.Join(scopes, " "))
			} else {
				msg = "unknown user code"
			}
		}
		loginPage(w, http.StatusOK, "Connect a device", "/device", url.Values{"user_code": {code}}, msg)
	case http.MethodPost:
		err := o.storage.decideDevice(code, r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("action") != "deny")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "Done. You can return to your device.")
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
