package grant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/backchannel"
	"github.com/lanyardhq/lanyard/internal/config"
)

// SourceGitHubActions prefixes a token source that requests the job's
// OIDC token for an audience; env:, file: and cmd: read like secrets.
const SourceGitHubActions = "github-actions:"

// Source obtains a token issued by someone else (a CI platform, Kubernetes)
// on every use: nothing is cached, so an assertion is never used past its
// exp, and nothing is written to disk.
type Source struct {
	// Key names the profile key in errors, e.g. "client_assertion".
	Key string
	Ref string
	// JWT requires the token to be a JWT that has not expired.
	JWT bool
	// Resolve reads env:, file: and cmd: references (config.SecretSource);
	// file: is read anew on every call, as projected tokens rotate.
	Resolve func(ctx context.Context, key, ref string) (string, error)
	Getenv  func(string) string
	HTTP    *http.Client
	Now     func() time.Time
}

// Assertion returns the source's token; the platform chose its audience.
func (s *Source) Assertion(ctx context.Context, _ string) (string, error) { return s.Token(ctx) }

// Token fetches the token and checks that it is usable.
func (s *Source) Token(ctx context.Context) (string, error) {
	var tok string
	var err error
	if aud, ok := strings.CutPrefix(s.Ref, SourceGitHubActions); ok {
		tok, err = s.gitHubActions(ctx, aud)
	} else {
		tok, err = s.Resolve(ctx, s.Key, s.Ref)
	}
	if err != nil {
		return "", err
	}
	tok = strings.TrimSpace(tok)
	if !s.JWT {
		return tok, nil
	}
	exp, ok := JWTExpiry(tok)
	if !ok {
		return "", fmt.Errorf("%s = %q did not yield a JWT (want three base64url parts with a JSON payload)", s.Key, s.Ref)
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if !exp.IsZero() && !now.Before(exp) {
		return "", fmt.Errorf("%s = %q yielded a token that expired at %s; the platform must issue a fresh one (a projected token file is rotated by the kubelet, a GitLab id_token lives as long as the job)", s.Key, s.Ref, exp.UTC().Format(time.RFC3339))
	}
	return tok, nil
}

// Check tells whether the source can deliver, for lanyard doctor: a
// github-actions source needs its two variables (the job's token is not
// requested); the others are read and checked as Token does. Nothing is
// returned or printed.
func (s *Source) Check(ctx context.Context) error {
	if _, ok := strings.CutPrefix(s.Ref, SourceGitHubActions); ok {
		for _, v := range []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"} {
			if s.Getenv(v) == "" {
				return fmt.Errorf("%s = %q: %s is not set; the GitHub Actions workflow (or job) needs `permissions: id-token: write`, and lanyard must run inside that job", s.Key, s.Ref, v)
			}
		}
		if err := config.CheckEndpoint(s.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL")); err != nil {
			return fmt.Errorf("%s = %q: ACTIONS_ID_TOKEN_REQUEST_URL: %w", s.Key, s.Ref, err)
		}
		return nil
	}
	_, err := s.Token(ctx)
	return err
}

// gitHubActions asks the Actions runtime for the job's OIDC token: GET
// $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with the request token as
// bearer, answer {"value": JWT}. The variables exist only in jobs with
// permissions: id-token: write.
func (s *Source) gitHubActions(ctx context.Context, aud string) (string, error) {
	if err := s.Check(ctx); err != nil {
		return "", err
	}
	reqURL, reqTok := s.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), s.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("%s = %q: ACTIONS_ID_TOKEN_REQUEST_URL is not a URL", s.Key, s.Ref)
	}
	q := u.Query()
	q.Set("audience", aud)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+reqTok)
	req.Header.Set("Accept", "application/json")
	resp, err := backchannel.NoRedirects(s.HTTP).Do(req)
	if err != nil {
		return "", fmt.Errorf("%s = %q: requesting the job's OIDC token: %w", s.Key, s.Ref, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", fmt.Errorf("%s = %q: reading the job's OIDC token: %w", s.Key, s.Ref, err)
	}
	var body struct {
		Value   string `json:"value"`
		Message string `json:"message"`
	}
	jerr := json.Unmarshal(data, &body)
	if resp.StatusCode != http.StatusOK {
		why := bodyLine(resp.StatusCode, string(data))
		if jerr == nil && body.Message != "" {
			why = firstLine(body.Message)
		}
		return "", fmt.Errorf("%s = %q: the Actions token service answered HTTP %d: %s", s.Key, s.Ref, resp.StatusCode, Printable(why))
	}
	if jerr != nil || body.Value == "" {
		return "", fmt.Errorf("%s = %q: the Actions token service answered without a token (want {\"value\": ...})", s.Key, s.Ref)
	}
	return body.Value, nil
}

// JWTExpiry reads the exp claim of a JWT without verifying it (zero when
// absent); ok is false when tok is not a JWT. lanyard only needs to know
// when to stop using a token; its audience verifies it.
func JWTExpiry(tok string) (exp time.Time, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, false
	}
	n, err := claims.Exp.Int64()
	if err != nil || n <= 0 {
		return time.Time{}, true
	}
	return time.Unix(n, 0), true
}
