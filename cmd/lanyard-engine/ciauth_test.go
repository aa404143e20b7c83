package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/lanyardhq/lanyard/internal/testbin"
	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// ciWorld is a GitHub Actions token service, a federated token endpoint
// that trusts it (as an Entra ID federated credential does), and a lanyard
// environment inside the "job".
type ciWorld struct {
	gha *testprovider.GitHubActions
	fed *testprovider.Federated
	env *testbin.Env
	dir string
}

const azureAudience = "api://AzureADTokenExchange"

func newCIWorld(t *testing.T) *ciWorld {
	t.Helper()
	gha := start(t, testprovider.StartGitHubActions)
	fed := start(t, func() (*testprovider.Federated, error) {
		return testprovider.StartFederated(testprovider.FederatedOptions{
			Trust:            testprovider.Trust{Issuer: gha.URL, JWKSURL: gha.JWKSURL, Subject: gha.Subject, Audience: azureAudience},
			ExchangeAudience: "https://api.example.test",
		})
	})
	env := newEnv(t)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", gha.RequestURL)
	env.Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", gha.RequestToken)
	return &ciWorld{gha: gha, fed: fed, env: env, dir: t.TempDir()}
}

// write puts a file in the world's directory and returns its path.
func (w *ciWorld) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mint writes a job token (as a projected token file would hold it).
func (w *ciWorld) mint(t *testing.T, name, sub, aud string, ttl time.Duration) string {
	t.Helper()
	tok, err := w.gha.Mint(sub, aud, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return w.write(t, name, []byte(tok+"\n"))
}

// failsClean asserts that lanyard token fails with every want in stderr,
// prints nothing on stdout and stores nothing.
func failsClean(t *testing.T, env *testbin.Env, profile string, want ...string) {
	t.Helper()
	out, stderr, code := run(t, env, "", "token", profile)
	if code == 0 || out != "" {
		t.Errorf("%s: exit %d, stdout %q; want a failure and no output", profile, code, out)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s: stderr %q does not say %q", profile, stderr, w)
		}
	}
	st, _, _ := run(t, env, "", "status", profile, "--json")
	var rows []ProfileStatus
	if err := json.Unmarshal([]byte(st), &rows); err != nil || len(rows) != 1 || rows[0].Expiry != nil {
		t.Errorf("%s: status after the failure: %s; want no stored token", profile, st)
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	w := newCIWorld(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	w.fed.RegisterKey(rsaKey.Public(), "")
	w.fed.RegisterKey(ecKey.Public(), "ec-1")
	w.fed.RegisterKey(edKey.Public(), "")
	rsaPath := w.write(t, "rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	ecPath := w.write(t, "ec.pem", testprovider.KeyPEM(ecKey))
	edPath := w.write(t, "ed.pem", testprovider.KeyPEM(edKey))
	w.env.WriteConfig(t, fmt.Sprintf(`
[profiles.rsa]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_auth = "private_key_jwt"
private_key = "file:%[3]s"

[profiles.ec]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_auth = "private_key_jwt"
private_key = "file:%[4]s"
key_id = "ec-1"

[profiles.ed]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_auth = "private_key_jwt"
private_key = "file:%[5]s"
signing_alg = "EdDSA"

[profiles.mismatch]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_auth = "private_key_jwt"
private_key = "file:%[4]s"
signing_alg = "RS256"

[profiles.unknown-key]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_auth = "private_key_jwt"
private_key = "file:%[6]s"
`, w.fed.TokenURL, testprovider.KeyClientID, rsaPath, ecPath, edPath, w.write(t, "other.pem", testprovider.KeyPEM(mustEC(t)))))

	for _, p := range []string{"rsa", "ec", "ed"} {
		t.Run(p, func(t *testing.T) {
			tok := mustToken(t, w.env, p)
			if !w.fed.Valid(tok.AccessToken) {
				t.Fatal("token rejected by the API")
			}
			assertCached(t, w.env, w.fed, p, tok)
			// A second grant signs a new assertion (the server refuses a replayed jti).
			if again := mustToken(t, w.env, p, "--force-refresh"); !w.fed.Valid(again.AccessToken) {
				t.Error("second grant failed")
			}
		})
	}
	failsClean(t, w.env, "mismatch", "signing_alg", "RS256", "EC P-384", "ES384", w.env.ConfigPath)
	failsClean(t, w.env, "unknown-key", "invalid_client", "private_key")
	// A key file others may write or read is refused, as ssh refuses it.
	for _, mode := range []os.FileMode{0o666, 0o640} {
		if err := os.Chmod(edPath, mode); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := run(t, w.env, "", "token", "ed", "--force-refresh"); code == 0 || !strings.Contains(stderr, "profiles.ed.private_key") || !strings.Contains(stderr, "chmod 600") {
			t.Errorf("key with mode %04o: exit %d, %q", mode, code, stderr)
		}
	}
	_ = os.Chmod(edPath, 0o600)
	out, _, _ := run(t, w.env, "", "doctor")
	if !strings.Contains(out, "ok    profile ed: private_key parses and fits signing_alg") || !strings.Contains(out, "FAIL  profile mismatch: private_key parses and fits signing_alg: ") {
		t.Errorf("doctor output:\n%s", out)
	}
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFederatedClientAssertion(t *testing.T) {
	w := newCIWorld(t)
	projected := w.mint(t, "projected", w.gha.Subject, azureAudience, 5*time.Minute)
	w.env.Set("GITLAB_OIDC_TOKEN", mustMint(t, w.gha, w.gha.Subject, azureAudience, 5*time.Minute))
	w.env.WriteConfig(t, fmt.Sprintf(`
[profiles.gha]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_assertion = "github-actions:%[3]s"

[profiles.k8s]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_assertion = "file:%[4]s"

[profiles.gitlab]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_assertion = "env:GITLAB_OIDC_TOKEN"

[profiles.cmd]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_assertion = "cmd:cat %[4]s"

[profiles.wrong-aud]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_assertion = "github-actions:api://somebody-else"

[profiles.expired]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_assertion = "file:%[5]s"

[profiles.unreadable]
token_url = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_assertion = "file:%[6]s"
`, w.fed.TokenURL, testprovider.FederatedClientID, azureAudience, projected,
		w.mint(t, "expired", w.gha.Subject, azureAudience, -10*time.Minute), filepath.Join(w.dir, "no-such-token")))

	for _, p := range []string{"gha", "k8s", "gitlab", "cmd"} {
		t.Run(p, func(t *testing.T) {
			tok := mustToken(t, w.env, p)
			if !w.fed.Valid(tok.AccessToken) {
				t.Fatal("token rejected by the API")
			}
			assertCached(t, w.env, w.fed, p, tok)
		})
	}
	// The projected file is read anew on every grant: after the kubelet
	// rotates it to an expired token (a broken rotation), the next grant
	// fails instead of reusing what was read before.
	w.mint(t, "projected", w.gha.Subject, azureAudience, -10*time.Minute)
	if _, stderr, code := run(t, w.env, "", "token", "k8s", "--force-refresh"); code == 0 || !strings.Contains(stderr, "expired") {
		t.Errorf("rotated-to-expired projected token: exit %d, %q", code, stderr)
	}

	failsClean(t, w.env, "wrong-aud", "invalid_client", "audience", "client_assertion")
	failsClean(t, w.env, "expired", "expired", "client_assertion")
	failsClean(t, w.env, "unreadable", "client_assertion", "no-such-token", "could not be read")

	// Outside a job with permissions: id-token: write the variables are missing.
	w.env.Set("ACTIONS_ID_TOKEN_REQUEST_URL", "")
	// The agent keeps the environment it was started with: a new one
	// starts with the changed variables.
	if err := w.env.StopAgent(); err != nil {
		t.Fatal(err)
	}
	failsClean(t, w.env, "wrong-aud", "ACTIONS_ID_TOKEN_REQUEST_URL", "permissions: id-token: write")

	// doctor checks every source and prints none of them.
	out, _, code := run(t, w.env, "", "doctor")
	for _, want := range []string{
		`FAIL  profile gha: client_assertion delivers a token: client_assertion = "github-actions:api://AzureADTokenExchange": ACTIONS_ID_TOKEN_REQUEST_URL is not set`,
		`ok    profile gitlab: client_assertion delivers a token`,
		`FAIL  profile expired: client_assertion delivers a token: client_assertion = "file:`,
		`FAIL  profile unreadable: client_assertion delivers a token: `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output does not contain %q:\n%s", want, out)
		}
	}
	if code == 0 || strings.Contains(out, w.env.Getenv("GITLAB_OIDC_TOKEN")) || strings.Contains(out, "eyJ") {
		t.Errorf("doctor: exit %d; want a failure and no token in the output:\n%s", code, out)
	}
}

func mustMint(t *testing.T, g *testprovider.GitHubActions, sub, aud string, ttl time.Duration) string {
	t.Helper()
	tok, err := g.Mint(sub, aud, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJWTBearerAndTokenExchange(t *testing.T) {
	w := newCIWorld(t)
	w.env.Set("CI_JOB_JWT", mustMint(t, w.gha, w.gha.Subject, azureAudience, 5*time.Minute))
	w.env.WriteConfig(t, fmt.Sprintf(`
[profiles.bearer]
token_url = %[1]q
grant = "jwt_bearer"
assertion = "env:CI_JOB_JWT"
scopes = ["deploy"]

[profiles.exchange]
token_url = %[1]q
grant = "token_exchange"
subject_token = "github-actions:%[2]s"
audience = "https://api.example.test"
resource = ["https://api.example.test/v1"]
requested_token_type = "urn:ietf:params:oauth:token-type:access_token"
actor_token = "env:CI_JOB_JWT"

[profiles.exchange-wrong-target]
token_url = %[1]q
grant = "token_exchange"
subject_token = "github-actions:%[2]s"
audience = "https://elsewhere.test"

[profiles.bearer-wrong-subject]
token_url = %[1]q
grant = "jwt_bearer"
assertion = "file:%[3]s"
`, w.fed.TokenURL, azureAudience, w.mint(t, "fork", "repo:evil/fork:ref:refs/heads/main", azureAudience, 5*time.Minute)))

	// login runs the grant at once, as for client_credentials.
	if _, stderr, code := run(t, w.env, "", "login", "bearer"); code != 0 {
		t.Fatalf("lanyard login bearer: exit %d: %s", code, stderr)
	}
	before := w.fed.TokenRequests()
	tok := mustToken(t, w.env, "bearer")
	if !w.fed.Valid(tok.AccessToken) || w.fed.TokenRequests() != before {
		t.Error("jwt_bearer: the token from login was not cached or is rejected by the API")
	}

	before = w.gha.Requests()
	tok = mustToken(t, w.env, "exchange")
	if !w.fed.Valid(tok.AccessToken) || w.gha.Requests() != before+1 {
		t.Errorf("token_exchange: valid=%v, %d job token requests; want valid and 1", w.fed.Valid(tok.AccessToken), w.gha.Requests()-before)
	}
	if got := w.fed.LastExchange(); got.Get("audience") != "https://api.example.test" || got.Get("resource") != "https://api.example.test/v1" || got.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt" ||
		got.Get("actor_token_present") != "true" || got.Get("actor_token_type") != "urn:ietf:params:oauth:token-type:jwt" {
		t.Errorf("exchange request: got %v", got)
	}
	assertCached(t, w.env, w.fed, "exchange", tok)
	st, _, _ := run(t, w.env, "", "status", "exchange")
	if !strings.Contains(st, "urn:ietf:params:oauth:token-type:access_token") {
		t.Errorf("status does not show the issued token type: %q", st)
	}
	failsClean(t, w.env, "exchange-wrong-target", "invalid_target", "elsewhere")
	failsClean(t, w.env, "bearer-wrong-subject", "invalid_grant", "subject", "assertion")
}

func TestTLSClientAuth(t *testing.T) {
	w := newCIWorld(t)
	// lanyard trusts the test server's CA the way a CI image would.
	w.env.Set("SSL_CERT_FILE", w.write(t, "server-ca.pem", w.fed.ServerCA.PEM))
	issued, err := w.fed.ClientCA.Issue(testprovider.TLSClientID, false)
	if err != nil {
		t.Fatal(err)
	}
	self, err := testprovider.SelfSigned("lanyard-ci")
	if err != nil {
		t.Fatal(err)
	}
	w.fed.RegisterCert(self.SHA256)
	other, _ := testprovider.SelfSigned("not-registered")
	w.env.WriteConfig(t, fmt.Sprintf(`
[profiles.pki]
issuer = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_auth = "tls_client_auth"
tls_cert = "file:%[3]s"
tls_key = "file:%[4]s"

[profiles.self]
token_url = %[5]q
grant = "client_credentials"
client_id = %[6]q
client_auth = "self_signed_tls_client_auth"
tls_cert = "file:%[7]s"
tls_key = "file:%[8]s"

[profiles.unregistered]
token_url = %[5]q
grant = "client_credentials"
client_id = %[6]q
client_auth = "self_signed_tls_client_auth"
tls_cert = "file:%[9]s"
tls_key = "file:%[10]s"

[profiles.mixed]
token_url = %[5]q
grant = "client_credentials"
client_id = %[6]q
client_auth = "self_signed_tls_client_auth"
tls_cert = "file:%[7]s"
tls_key = "file:%[10]s"
`, w.fed.URL, testprovider.TLSClientID, w.write(t, "pki.crt", issued.CertPEM), w.write(t, "pki.key", issued.KeyPEM),
		w.fed.MTLSTokenURL, testprovider.SelfSignedClientID, w.write(t, "self.crt", self.CertPEM), w.write(t, "self.key", self.KeyPEM),
		w.write(t, "other.crt", other.CertPEM), w.write(t, "other.key", other.KeyPEM)))

	// pki finds the certificate-bound token endpoint through discovery's
	// mtls_endpoint_aliases; self names it.
	for _, p := range []string{"pki", "self"} {
		t.Run(p, func(t *testing.T) {
			tok := mustToken(t, w.env, p)
			if !w.fed.Valid(tok.AccessToken) {
				t.Fatal("token rejected by the API")
			}
			assertCached(t, w.env, w.fed, p, tok)
		})
	}
	failsClean(t, w.env, "unregistered", "invalid_client", "not registered", "tls_cert")
	failsClean(t, w.env, "mixed", "tls_key", "does not match")

	// A certificate without its key is a configuration error, found before
	// any network call.
	before := w.fed.TokenRequests()
	w.env.WriteConfig(t, fmt.Sprintf(`
[profiles.nokey]
token_url = %q
grant = "client_credentials"
client_id = "x"
client_auth = "tls_client_auth"
tls_cert = "file:/etc/ssl/client.pem"
`, w.fed.MTLSTokenURL))
	_, stderr, code := run(t, w.env, "", "token", "nokey")
	if code == 0 || !strings.Contains(stderr, "profiles.nokey.tls_key") || !strings.Contains(stderr, "certificate without its key") || w.fed.TokenRequests() != before {
		t.Errorf("cert without key: exit %d, %q, %d requests", code, stderr, w.fed.TokenRequests()-before)
	}
}

// TestOPTokenExchangeAndJWTBearer runs both grants against the real OP
// (zitadel): one profile's access token is exchanged by another profile,
// and a service account's signed assertion is the grant.
func TestOPTokenExchangeAndJWTBearer(t *testing.T) {
	o := start(t, func() (*testprovider.OP, error) { return testprovider.StartOP(testprovider.OPOptions{}) })
	svcKey := mustEC(t)
	o.RegisterClientKey(testprovider.OPServiceAccount, svcKey.Public(), "svc-1")
	assertion := signAssertion(t, svcKey, "svc-1", testprovider.OPServiceAccount, o.Issuer)
	env := newEnv(t)
	env.Set("OP_SECRET", o.ConfidentialClientSecret)
	env.WriteConfig(t, fmt.Sprintf(`
[profiles.machine]
issuer = %[1]q
grant = "client_credentials"
client_id = %[2]q
client_secret = "env:OP_SECRET"

[profiles.exchanged]
issuer = %[1]q
grant = "token_exchange"
client_id = %[2]q
client_secret = "env:OP_SECRET"
subject_token = "file:%[4]s"
subject_token_type = "urn:ietf:params:oauth:token-type:access_token"

[profiles.svc]
issuer = %[1]q
grant = "jwt_bearer"
assertion = "file:%[3]s"
scopes = ["openid"]
`, o.Issuer, o.ConfidentialClientID, filepath.Join(env.Home, "svc.jwt"), filepath.Join(env.Home, "machine.token")))
	if err := os.WriteFile(filepath.Join(env.Home, "svc.jwt"), []byte(assertion), 0o600); err != nil {
		t.Fatal(err)
	}
	machine := mustToken(t, env, "machine")
	if err := os.WriteFile(filepath.Join(env.Home, "machine.token"), []byte(machine.AccessToken), 0o600); err != nil {
		t.Fatal(err)
	}

	ex := mustToken(t, env, "exchanged")
	if !o.Valid(ex.AccessToken) {
		t.Error("exchanged token rejected by the OP")
	}
	assertCached(t, env, o, "exchanged", ex)
	var rows []ProfileStatus
	st, _, _ := run(t, env, "", "status", "exchanged", "--json")
	if err := json.Unmarshal([]byte(st), &rows); err != nil || rows[0].IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" {
		t.Errorf("status --json: %s", st)
	}

	svc := mustToken(t, env, "svc")
	if !o.Valid(svc.AccessToken) {
		t.Error("jwt-bearer token rejected by the OP")
	}
	assertCached(t, env, o, "svc", svc)
}

// signAssertion signs an RFC 7523 assertion as a service account does.
func signAssertion(t *testing.T, key *ecdsa.PrivateKey, kid, sub, aud string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: sub, Subject: sub, Audience: jwt.Audience{aud}, IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: "svc-" + now.Format("150405.000")}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
