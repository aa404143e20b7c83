package testprovider

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Identifiers the Federated server checks (RFC 7523, RFC 8693).
const (
	fedAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	fedJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	fedTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	fedTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
	fedTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
)

// Client ids of the Federated server.
const (
	FederatedClientID  = "app-federated"  // client_assertion from the trusted issuer
	KeyClientID        = "app-key"        // private_key_jwt with registered keys
	TLSClientID        = "app-tls"        // tls_client_auth: CN = TLSClientID, issued by ClientCA
	SelfSignedClientID = "app-selfsigned" // self_signed_tls_client_auth: registered thumbprint
)

// Trust is the federated credential of Entra ID (and similar): tokens of
// Issuer, verified against the keys at JWKSURL, for Subject and Audience.
type Trust struct {
	Issuer, JWKSURL, Subject, Audience string
}

// FederatedOptions configures [StartFederated].
type FederatedOptions struct {
	Trust Trust
	// KeyAudience is the aud private_key_jwt assertions must carry: "" is
	// the token endpoint (RFC 7523 §3), else e.g. the issuer URL.
	KeyAudience string
	// ExchangeAudience, when set, is the only audience token exchange grants.
	ExchangeAudience string
}

// Federated is a strict token endpoint for clients without shared secrets.
//
// Client authentication: client_assertion (RFC 7523 §2.2) either from the
// trusted federation issuer for FederatedClientID, verified the way Entra
// ID checks a federated credential (signature against the issuer's JWKS,
// fetched over HTTP; iss, sub, aud, exp), or signed with a key registered
// by [Federated.RegisterKey] for KeyClientID (iss = sub = client_id, aud,
// exp at most 5 minutes ahead, jti never seen before). Client certificates
// (RFC 8705) on the TLS listener MTLSURL, which requests them: TLSClientID
// with a certificate issued by ClientCA whose CN is the client id, and
// SelfSignedClientID with a certificate registered by
// [Federated.RegisterCert]. Client secrets are refused.
//
// Grants: client_credentials; jwt_bearer (RFC 7523 §2.1: the assertion
// must pass the federation checks; the token's subject is its sub); and
// token_exchange (RFC 8693: subject_token of type jwt passing the
// federation checks; issued_token_type access_token).
//
// Discovery at /.well-known/openid-configuration announces TokenURL and,
// as mtls_endpoint_aliases (RFC 8705 §5), MTLSTokenURL.
type Federated struct {
	URL, TokenURL         string // http://127.0.0.1:PORT
	MTLSURL, MTLSTokenURL string // https://127.0.0.1:PORT, certificate of ServerCA
	ServerCA, ClientCA    *CA

	core
	opt     FederatedOptions
	fedMu   sync.Mutex
	keys    map[string][]jose.JSONWebKey
	certs   map[[32]byte]bool
	jtis    map[string]bool
	lastTEX url.Values
}

// StartFederated starts the plain and the TLS listener on 127.0.0.1.
func StartFederated(opt FederatedOptions) (*Federated, error) {
	f := &Federated{core: newCore("federated", 5*time.Minute), opt: opt,
		keys: map[string][]jose.JSONWebKey{}, certs: map[[32]byte]bool{}, jtis: map[string]bool{}}
	var err error
	if f.ServerCA, err = NewCA("lanyard test server CA"); err != nil {
		return nil, err
	}
	if f.ClientCA, err = NewCA("lanyard test client CA"); err != nil {
		return nil, err
	}
	srvCert, err := f.ServerCA.Issue("127.0.0.1", true)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", f.token)
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.Handle("/api/", protect(f.Valid, false, apiOK("federated")))
	h := f.wrap("/oauth2/token", mux)
	plain, err := startServer(h)
	if err != nil {
		return nil, err
	}
	f.servers = append(f.servers, plain)
	f.URL, f.TokenURL = plain.URL, plain.URL+"/oauth2/token"

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Close()
		return nil, err
	}
	tlsSrv := &server{URL: "https://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{srvCert.TLS}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}}}
	go func() { _ = tlsSrv.srv.ServeTLS(ln, "", "") }()
	f.servers = append(f.servers, tlsSrv)
	f.MTLSURL, f.MTLSTokenURL = tlsSrv.URL, tlsSrv.URL+"/oauth2/token"
	return f, nil
}

// RegisterKey trusts pub (with key id kid, "" for none) for KeyClientID.
func (f *Federated) RegisterKey(pub crypto.PublicKey, kid string) {
	f.fedMu.Lock()
	defer f.fedMu.Unlock()
	f.keys[KeyClientID] = append(f.keys[KeyClientID], jose.JSONWebKey{Key: pub, KeyID: kid})
}

// RegisterCert trusts the self-signed certificate with this SHA-256.
func (f *Federated) RegisterCert(sha [32]byte) {
	f.fedMu.Lock()
	defer f.fedMu.Unlock()
	f.certs[sha] = true
}

// LastExchange returns the parameters of the last successful token
// exchange, without the tokens.
func (f *Federated) LastExchange() url.Values {
	f.fedMu.Lock()
	defer f.fedMu.Unlock()
	return f.lastTEX
}

func (f *Federated) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": f.URL, "token_endpoint": f.TokenURL,
		"mtls_endpoint_aliases":                 map[string]string{"token_endpoint": f.MTLSTokenURL},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"},
		"grant_types_supported":                 []string{"client_credentials", fedJWTBearer, fedTokenExchange},
	})
}

func (f *Federated) token(w http.ResponseWriter, r *http.Request) {
	if mediaType(r) != formType {
		writeError(w, badRequest("federated: the token request must be %s", formType))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("federated: %v", err))
		return
	}
	form := r.PostForm
	client, oe := f.authenticate(r, form)
	if oe != nil {
		writeError(w, oe)
		return
	}
	g := grant{family: randToken("fam"), clientID: client, subject: client, scopes: splitScopes(form.Get("scope"))}
	resp := map[string]any{"token_type": "Bearer"}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
		if client == "" {
			writeError(w, invalidClient("federated: client_credentials needs client authentication"))
			return
		}
	case fedJWTBearer:
		sub, oe := f.verifyFederated(form.Get("assertion"), "assertion", invalidGrant)
		if oe != nil {
			writeError(w, oe)
			return
		}
		g.subject = sub
	case fedTokenExchange:
		if t := form.Get("subject_token_type"); t != fedTypeJWT {
			writeError(w, badRequest("federated: subject_token_type %q is not supported; want %s", t, fedTypeJWT))
			return
		}
		if t := form.Get("requested_token_type"); t != "" && t != fedTypeAccess {
			writeError(w, badRequest("federated: requested_token_type %q is not supported", t))
			return
		}
		if a := f.opt.ExchangeAudience; a != "" && form.Get("audience") != a {
			writeError(w, errf(http.StatusBadRequest, "invalid_target", "federated: audience %q is not served; want %q", form.Get("audience"), a))
			return
		}
		sub, oe := f.verifyFederated(form.Get("subject_token"), "subject_token", invalidGrant)
		if oe != nil {
			writeError(w, oe)
			return
		}
		g.subject = sub
		resp["issued_token_type"] = fedTypeAccess
		kept := url.Values{}
		for k, v := range form {
			if k != "subject_token" && k != "actor_token" && k != "client_assertion" {
				kept[k] = v
			}
		}
		kept.Set("actor_token_present", fmt.Sprint(form.Get("actor_token") != ""))
		f.fedMu.Lock()
		f.lastTEX = kept
		f.fedMu.Unlock()
	default:
		writeError(w, errf(http.StatusBadRequest, "unsupported_grant_type", "federated: grant_type %q is not supported", gt))
		return
	}
	tok, exp := f.issueAccess(g, 0)
	resp["access_token"], resp["expires_in"] = tok, exp
	writeJSON(w, http.StatusOK, resp)
}

// authenticate returns the authenticated client id, or "" for an
// anonymous request (allowed for jwt_bearer and token_exchange only).
func (f *Federated) authenticate(r *http.Request, form url.Values) (string, *oauthError) {
	if _, _, ok := r.BasicAuth(); ok || form.Get("client_secret") != "" {
		return "", invalidClient("federated: this server takes no client secrets; authenticate with a certificate or an assertion")
	}
	id := form.Get("client_id")
	if a := form.Get("client_assertion"); a != "" {
		if t := form.Get("client_assertion_type"); t != fedAssertionType {
			return "", invalidClient("federated: client_assertion_type %q; want %s", t, fedAssertionType)
		}
		switch id {
		case FederatedClientID:
			_, oe := f.verifyFederated(a, "client_assertion", invalidClient)
			return id, oe
		case KeyClientID:
			return id, f.verifyKeyJWT(a, id, r)
		}
		return "", invalidClient("federated: unknown client_id %q for a client assertion", id)
	}
	switch id {
	case "":
		if r.TLS == nil && form.Get("grant_type") == "client_credentials" {
			return "", invalidClient("federated: no client authentication")
		}
		return "", nil
	case TLSClientID, SelfSignedClientID:
		if r.TLS == nil {
			return "", invalidClient("federated: %s authenticates with a client certificate; use the mtls_endpoint_aliases token endpoint", id)
		}
		if len(r.TLS.PeerCertificates) == 0 {
			return "", invalidClient("federated: no client certificate was presented")
		}
		leaf := r.TLS.PeerCertificates[0]
		if id == SelfSignedClientID {
			f.fedMu.Lock()
			ok := f.certs[sha256.Sum256(leaf.Raw)]
			f.fedMu.Unlock()
			if !ok {
				return "", invalidClient("federated: the client certificate is not registered for %s", id)
			}
			return id, nil
		}
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: f.ClientCA.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return "", invalidClient("federated: client certificate does not verify: %v", err)
		}
		if leaf.Subject.CommonName != id {
			return "", invalidClient("federated: client certificate subject CN=%s is not registered for %s", leaf.Subject.CommonName, id)
		}
		return id, nil
	}
	return "", invalidClient("federated: client %q must authenticate (client_assertion or a certificate)", id)
}

var fedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// verifyFederated checks a token of the trusted issuer: signature against
// the JWKS fetched now, iss, sub, aud and exp. It returns the subject.
func (f *Federated) verifyFederated(raw, what string, fail func(string, ...any) *oauthError) (string, *oauthError) {
	t := f.opt.Trust
	if raw == "" {
		return "", fail("federated: %s is missing", what)
	}
	tok, err := jwt.ParseSigned(raw, fedAlgs)
	if err != nil {
		return "", fail("federated: %s is not a signed JWT: %v", what, err)
	}
	set, err := fetchJWKS(t.JWKSURL)
	if err != nil {
		return "", errf(http.StatusInternalServerError, "server_error", "federated: %v", err)
	}
	var claims jwt.Claims
	var verr error = fmt.Errorf("no key of %s matches", t.JWKSURL)
	for _, h := range tok.Headers {
		for _, k := range set.Key(h.KeyID) {
			if verr = tok.Claims(k.Key, &claims); verr == nil {
				break
			}
		}
	}
	if verr != nil {
		return "", fail("federated: %s signature does not verify against %s: %v", what, t.JWKSURL, verr)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: t.Issuer, Subject: t.Subject, AnyAudience: jwt.Audience{t.Audience}, Time: time.Now()}, 5*time.Second); err != nil {
		return "", fail("federated: %s rejected by the federated credential (issuer %s, subject %s, audience %s): %v", what, t.Issuer, t.Subject, t.Audience, err)
	}
	if claims.Expiry == nil {
		return "", fail("federated: %s has no exp", what)
	}
	return claims.Subject, nil
}

// verifyKeyJWT checks a private_key_jwt assertion of client id (RFC 7523 §3).
func (f *Federated) verifyKeyJWT(raw, id string, r *http.Request) *oauthError {
	tok, err := jwt.ParseSigned(raw, fedAlgs)
	if err != nil {
		return invalidClient("federated: client_assertion is not a signed JWT: %v", err)
	}
	f.fedMu.Lock()
	keys := slices.Clone(f.keys[id])
	f.fedMu.Unlock()
	var claims jwt.Claims
	verr := fmt.Errorf("no registered key")
	for _, k := range keys {
		if kid := tok.Headers[0].KeyID; k.KeyID != "" && kid != k.KeyID {
			continue
		}
		if verr = tok.Claims(k.Key, &claims); verr == nil {
			break
		}
	}
	if verr != nil {
		return invalidClient("federated: client_assertion signature does not verify with the keys registered for %s: %v", id, verr)
	}
	aud := f.opt.KeyAudience
	if aud == "" {
		aud = f.TokenURL
		if r.TLS != nil {
			aud = f.MTLSTokenURL
		}
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: id, Subject: id, AnyAudience: jwt.Audience{aud}, Time: time.Now()}, 5*time.Second); err != nil {
		return invalidClient("federated: client_assertion claims rejected (want iss = sub = %s, aud %s, unexpired): %v", id, aud, err)
	}
	if claims.Expiry == nil || claims.Expiry.Time().After(time.Now().Add(5*time.Minute+5*time.Second)) {
		return invalidClient("federated: client_assertion exp must be set and at most 5 minutes ahead")
	}
	if claims.ID == "" {
		return invalidClient("federated: client_assertion has no jti")
	}
	f.fedMu.Lock()
	defer f.fedMu.Unlock()
	if f.jtis[claims.ID] {
		return invalidClient("federated: client_assertion jti %s was already used", claims.ID)
	}
	f.jtis[claims.ID] = true
	return nil
}

func fetchJWKS(u string) (*jose.JSONWebKeySet, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS %s: HTTP %d", u, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", u, err)
	}
	return &set, nil
}
