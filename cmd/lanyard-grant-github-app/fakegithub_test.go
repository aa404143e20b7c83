package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub is GitHub's installation token endpoint on 127.0.0.1, as
// strict as the real one about what matters: POST, the vnd.github Accept
// header, an RS256 JWT signed by the app's key (checked with its public
// key), issued in the past, expiring within 10 minutes, issued by the app.
// It answers with a token valid for one hour.
type fakeGitHub struct {
	*httptest.Server
	pub            *rsa.PublicKey
	appID          string
	installationID string
	prefix         string // "/api/v3" for GitHub Enterprise Server

	mu       sync.Mutex
	issued   map[string]time.Time
	requests int
	rejected []string
	bodies   []map[string]any
}

func startFakeGitHub(t *testing.T, pub *rsa.PublicKey, appID, installationID, prefix string) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{pub: pub, appID: appID, installationID: installationID, prefix: prefix, issued: map[string]time.Time{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// APIURL is what a profile's api_url names.
func (f *fakeGitHub) APIURL() string { return f.URL + f.prefix }

// Requests counts token requests, accepted or not.
func (f *fakeGitHub) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Rejected lists why requests were refused.
func (f *fakeGitHub) Rejected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rejected...)
}

// Valid reports whether tok is an unexpired token this server issued.
func (f *fakeGitHub) Valid(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.issued[tok]
	return ok && time.Now().Before(exp)
}

func (f *fakeGitHub) fail(w http.ResponseWriter, status int, why, message string) {
	f.rejected = append(f.rejected, why)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": message, "documentation_url": "https://docs.github.com/rest"})
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	want := f.prefix + "/app/installations/" + f.installationID + "/access_tokens"
	if !strings.HasPrefix(r.URL.Path, f.prefix+"/app/installations/") || !strings.HasSuffix(r.URL.Path, "/access_tokens") {
		f.fail(w, http.StatusNotFound, "path "+r.URL.Path, "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		f.fail(w, http.StatusMethodNotAllowed, "method "+r.Method, "Method Not Allowed")
		return
	}
	if r.Header.Get("Accept") != "application/vnd.github+json" {
		f.fail(w, http.StatusUnsupportedMediaType, "accept "+r.Header.Get("Accept"), "Unsupported 'Accept' header")
		return
	}
	if r.Header.Get("User-Agent") == "" {
		f.fail(w, http.StatusForbidden, "no user agent", "Request forbidden by administrative rules. Please make sure your request has a User-Agent header")
		return
	}
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		f.fail(w, http.StatusUnauthorized, "no bearer JWT", "Requires authentication")
		return
	}
	if why := f.checkJWT(jwt); why != "" {
		f.fail(w, http.StatusUnauthorized, why, "A JSON web token could not be decoded")
		return
	}
	if r.URL.Path != want {
		f.fail(w, http.StatusNotFound, "installation "+r.URL.Path, "Not Found")
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.fail(w, http.StatusBadRequest, "body "+err.Error(), "Problems parsing JSON")
		return
	}
	f.bodies = append(f.bodies, body)
	b := make([]byte, 18)
	rand.Read(b)
	tok := "ghs_" + hex.EncodeToString(b)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	f.issued[tok] = exp
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"token":                tok,
		"expires_at":           exp.UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"contents": "write", "metadata": "read"},
		"repository_selection": "all",
	})
}

// checkJWT returns why jwt is not acceptable, or "".
func (f *fakeGitHub) checkJWT(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "jwt has no three parts"
	}
	enc := base64.RawURLEncoding
	var header struct{ Alg, Typ string }
	if h, err := enc.DecodeString(parts[0]); err != nil || json.Unmarshal(h, &header) != nil || header.Alg != "RS256" {
		return "jwt header is not RS256"
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return "jwt signature is not base64url"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig); err != nil {
		return "jwt signature does not verify with the app's public key"
	}
	var claims struct {
		Iat, Exp int64
		Iss      json.RawMessage
	}
	c, err := enc.DecodeString(parts[1])
	if err != nil || json.Unmarshal(c, &claims) != nil {
		return "jwt claims do not parse"
	}
	now := time.Now().Unix()
	switch {
	case strings.Trim(string(claims.Iss), `"`) != f.appID:
		return fmt.Sprintf("jwt iss %s is not app %s", claims.Iss, f.appID)
	case claims.Iat > now:
		return "jwt issued in the future"
	case claims.Exp <= now:
		return "jwt expired"
	case claims.Exp-claims.Iat > 600:
		return "jwt lives longer than 10 minutes"
	}
	return ""
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// appKey is the app's RSA key, generated once per test process.
func appKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// pemPKCS1 is the key as GitHub's "Generate a private key" downloads it.
func pemPKCS1(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// pemPKCS8 is the key after openssl pkcs8 -topk8 -nocrypt.
func pemPKCS8(t testing.TB, k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
