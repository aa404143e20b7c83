package testprovider

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Paths served by every server of this package (OP, emulators, Fault).
const (
	// StatsPath answers GET with {"token_requests":N,"reuse_detections":N}.
	StatsPath = "/_lanyard/stats"
	// RevokeAccessPath answers POST by calling RevokeAllAccessTokens.
	RevokeAccessPath = "/_lanyard/revoke-access"
)

// Stats is the JSON document served at [StatsPath].
type Stats struct {
	TokenRequests   int64 `json:"token_requests"`
	ReuseDetections int64 `json:"reuse_detections"`
}

// server is an http.Server on 127.0.0.1 with a random port.
type server struct {
	URL string // http://127.0.0.1:PORT, no trailing slash
	srv *http.Server
}

func startServer(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *server) close() error {
	if s == nil {
		return nil
	}
	return s.srv.Close()
}

// randToken returns prefix + 32 random URL-safe characters.
func randToken(prefix string) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// writeJSON writes v with the no-store headers RFC 6749 §5.1 requires.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errf(status int, code, format string, args ...any) *oauthError {
	return &oauthError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *oauthError {
	return errf(http.StatusBadRequest, "invalid_request", format, args...)
}

func invalidGrant(format string, args ...any) *oauthError {
	return errf(http.StatusBadRequest, "invalid_grant", format, args...)
}

func invalidClient(format string, args ...any) *oauthError {
	return errf(http.StatusUnauthorized, "invalid_client", format, args...)
}

// writeError writes e; a 401 carries the WWW-Authenticate header of RFC 6749 §5.2.
func writeError(w http.ResponseWriter, e *oauthError) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
	}
	writeJSON(w, e.Status, e)
}

// mediaType returns the request's Content-Type without parameters, lowercased.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

const (
	formType      = "application/x-www-form-urlencoded"
	multipartType = "multipart/form-data"
	jsonType      = "application/json"
)

// expiresIn rounds a TTL up to whole seconds (at least 1), the unit of expires_in.
func expiresIn(ttl time.Duration) int64 {
	s := int64(math.Ceil(ttl.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// grant is what every token of one grant chain (a "family") carries.
type grant struct {
	family   string
	clientID string
	subject  string
	scopes   []string
	redirect string // authorization_code only
}

type accessRec struct {
	grant
	expires time.Time
	revoked bool
}

type refreshRec struct {
	grant
	used bool // rotated away: presenting it again is reuse
}

// core is the token bookkeeping shared by the seed emulators: issued access
// and refresh tokens, grant families, counters and the /_lanyard endpoints.
// All methods are safe for concurrent use.
type core struct {
	name string // provider name, used in error descriptions

	mu       sync.Mutex
	ttl      time.Duration
	access   map[string]*accessRec
	refresh  map[string]*refreshRec
	codes    map[string]*codeRec
	revoked  map[string]bool // revoked families
	servers  []*server
	tokenReq atomic.Int64
	reuse    atomic.Int64
}

// codeRec is an authorization code (Whiplash, Whisk): single use, 10 minutes.
type codeRec struct {
	grant
	expires time.Time
	used    bool
}

func newCore(name string, ttl time.Duration) core {
	return core{
		name:    name,
		ttl:     ttl,
		access:  map[string]*accessRec{},
		refresh: map[string]*refreshRec{},
		codes:   map[string]*codeRec{},
		revoked: map[string]bool{},
	}
}

// TokenRequests counts every POST to the token endpoint, whatever its outcome.
func (c *core) TokenRequests() int64 { return c.tokenReq.Load() }

// ReuseDetections counts every presentation of a refresh token that was
// already rotated away (always 0 for providers that do not rotate).
func (c *core) ReuseDetections() int64 { return c.reuse.Load() }

// SetAccessTTL sets the lifetime of access tokens issued from now on
// (expires_in is rounded up to whole seconds, and so is the server-side expiry).
func (c *core) SetAccessTTL(d time.Duration) {
	c.mu.Lock()
	c.ttl = d
	c.mu.Unlock()
}

// Valid reports whether token is an access token (or, for WhenFresh, an
// id_token) issued by this server that is neither expired nor revoked. This is
// what resource servers in end-to-end tests call.
func (c *core) Valid(token string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.access[token]
	return ok && !a.revoked && !c.revoked[a.family] && time.Now().Before(a.expires)
}

// RevokeAllAccessTokens makes every access token issued so far invalid;
// refresh tokens stay valid (the next API call gets a 401 and must refresh).
func (c *core) RevokeAllAccessTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.access {
		a.revoked = true
	}
}

// LiveRefreshTokens counts the refresh tokens a client could still
// exchange: issued, not rotated away, not revoked.
func (c *core) LiveRefreshTokens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.refresh {
		if !r.used && !c.revoked[r.family] {
			n++
		}
	}
	return n
}

// revokeToken is RFC 7009 revocation for clientID: a refresh token revokes
// its whole grant (access tokens included), an access token only itself.
// Unknown tokens and other clients' tokens are ignored (RFC 7009 §2.2: the
// answer is 200 either way).
func (c *core) revokeToken(token, clientID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.refresh[token]; ok && r.clientID == clientID {
		c.revoked[r.family] = true
	}
	if a, ok := c.access[token]; ok && a.clientID == clientID {
		a.revoked = true
	}
}

// Close stops the emulator's servers.
func (c *core) Close() error {
	var errs []error
	for _, s := range c.servers {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// issueAccess stores a new access token of grant g; the lifetime is ttl, or
// the emulator's current TTL when ttl is 0.
func (c *core) issueAccess(g grant, ttl time.Duration) (token string, expires int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ttl == 0 {
		ttl = c.ttl
	}
	expires = expiresIn(ttl)
	token = randToken(c.name + "_at_")
	c.access[token] = &accessRec{grant: g, expires: time.Now().Add(time.Duration(expires) * time.Second)}
	return token, expires
}

// registerAccess records an externally built token (an id_token) as valid.
func (c *core) registerAccess(token string, g grant, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.access[token] = &accessRec{grant: g, expires: expires}
}

func (c *core) issueRefresh(g grant) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	token := randToken(c.name + "_rt_")
	c.refresh[token] = &refreshRec{grant: g}
	return token
}

// reusePolicy says what presenting a rotated refresh token does.
type reusePolicy int

const (
	noRotation      reusePolicy = iota // the token stays valid (WhenFresh, Whisk)
	rotateReject                       // rotate; reuse => invalid_grant (Shopware)
	rotateRevokeAll                    // rotate; reuse => invalid_grant + revoke the family (Whiplash)
)

// useRefresh validates a presented refresh token for clientID and, when the
// policy rotates, consumes it. Exactly one of any number of concurrent callers
// presenting the same rotating token wins.
func (c *core) useRefresh(token, clientID string, p reusePolicy) (grant, *oauthError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.refresh[token]
	switch {
	case !ok:
		return grant{}, invalidGrant("%s: unknown refresh token", c.name)
	case rec.clientID != clientID:
		return grant{}, invalidGrant("%s: refresh token was issued to another client", c.name)
	case rec.used:
		c.reuse.Add(1)
		if p == rotateRevokeAll {
			c.revoked[rec.family] = true
			return grant{}, invalidGrant("%s: refresh token already used; the whole grant is revoked, log in again", c.name)
		}
		return grant{}, invalidGrant("%s: refresh token already used (it rotates on every use)", c.name)
	case c.revoked[rec.family]:
		return grant{}, invalidGrant("%s: refresh token revoked (its grant was revoked after a refresh token reuse)", c.name)
	}
	if p != noRotation {
		rec.used = true
	}
	return rec.grant, nil
}

// issueCode stores a 10-minute single-use authorization code.
func (c *core) issueCode(g grant) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	code := randToken(c.name + "_code_")
	c.codes[code] = &codeRec{grant: g, expires: time.Now().Add(10 * time.Minute)}
	return code
}

// useCode consumes an authorization code issued to clientID.
func (c *core) useCode(code, clientID string) (grant, *oauthError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.codes[code]
	switch {
	case !ok:
		return grant{}, invalidGrant("%s: unknown authorization code", c.name)
	case rec.used:
		return grant{}, invalidGrant("%s: authorization code already used", c.name)
	case time.Now().After(rec.expires):
		return grant{}, invalidGrant("%s: authorization code expired", c.name)
	case rec.clientID != clientID:
		return grant{}, invalidGrant("%s: authorization code was issued to another client", c.name)
	}
	rec.used = true
	return rec.grant, nil
}

// wrap serves the /_lanyard endpoints and counts POSTs to tokenPath.
func (c *core) wrap(tokenPath string, next http.Handler) http.Handler {
	return lanyardEndpoints(tokenPath, &c.tokenReq, c.ReuseDetections, c.RevokeAllAccessTokens, next)
}

func lanyardEndpoints(tokenPath string, counter *atomic.Int64, reuse func() int64, revoke func(), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case StatsPath:
			writeJSON(w, http.StatusOK, Stats{TokenRequests: counter.Load(), ReuseDetections: reuse()})
			return
		case RevokeAccessPath:
			if r.Method != http.MethodPost {
				writeError(w, errf(http.StatusMethodNotAllowed, "invalid_request", "use POST"))
				return
			}
			revoke()
			writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == tokenPath {
			counter.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// Protect returns a handler that answers 401 with a Bearer challenge unless the
// request carries "Authorization: Bearer T" with valid(T), and otherwise calls
// next. It is the resource-server half of end-to-end tests.
func Protect(valid func(token string) bool, next http.Handler) http.Handler {
	return protect(valid, false, next)
}

func protect(valid func(string) bool, allowQuery bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := ""
		if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(t)
		} else if allowQuery {
			tok = r.URL.Query().Get("access_token")
		}
		if tok == "" || !valid(tok) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiOK is the body of the protected demo API of each emulator.
func apiOK(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "provider": name, "path": r.URL.Path})
	})
}

// hs256 builds a compact JWT signed with HMAC-SHA256.
func hs256(key []byte, claims map[string]any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

// splitScopes splits on spaces and commas (Whisk accepts both) and drops empties.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// redirectWith appends kv pairs, in order, to the query (or, with fragment,
// the fragment) of base. Empty values are left out.
func redirectWith(base string, fragment bool, kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			parts = append(parts, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
		}
	}
	enc := strings.Join(parts, "&")
	if fragment {
		base, _, _ = strings.Cut(base, "#")
		return base + "#" + enc
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + enc
}

// isLoopbackHTTP reports whether u is http:// on 127.0.0.0/8, ::1 or localhost.
func isLoopbackHTTP(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.User != nil || p.Fragment != "" {
		return false
	}
	h := p.Hostname()
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
