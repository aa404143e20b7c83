// Package discovery reads OpenID Connect Discovery and RFC 8414
// authorization server metadata, and caches it on disk so that only the
// first token request of a profile pays for it. The cache-hit path of the
// engine never calls this package.
package discovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Metadata is the subset of provider metadata lanyard uses.
type Metadata struct {
	Issuer                      string `json:"issuer"`
	AuthorizationEndpoint       string `json:"authorization_endpoint"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
	RevocationEndpoint          string `json:"revocation_endpoint"`
}

// TTL is how long cached metadata is trusted.
const TTL = 24 * time.Hour

// Resolver fetches metadata, caching it as JSON files in Dir.
type Resolver struct {
	HTTP *http.Client
	Dir  string // "" disables the disk cache
	Now  func() time.Time
}

type cached struct {
	Fetched  time.Time `json:"fetched"`
	Metadata Metadata  `json:"metadata"`
}

// Get returns the metadata of issuer: from the cache when fresh, else from
// /.well-known/openid-configuration, then /.well-known/oauth-authorization-server.
func (r *Resolver) Get(ctx context.Context, issuer string) (*Metadata, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	path := r.cachePath(issuer)
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			var c cached
			if json.Unmarshal(b, &c) == nil && now().Sub(c.Fetched) < TTL && c.Metadata.TokenEndpoint != "" {
				return &c.Metadata, nil
			}
		}
	}
	base := strings.TrimRight(issuer, "/")
	var errs []error
	for _, wk := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		m, err := r.fetch(ctx, base+wk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.TokenEndpoint == "" {
			return nil, fmt.Errorf("discovery document %s has no token_endpoint; set token_url in the profile", base+wk)
		}
		if path != "" {
			if b, err := json.Marshal(cached{Fetched: now(), Metadata: *m}); err == nil {
				_ = os.MkdirAll(filepath.Dir(path), 0o700)
				tmp := path + ".tmp" + fmt.Sprint(os.Getpid())
				if os.WriteFile(tmp, b, 0o600) == nil {
					_ = os.Rename(tmp, path)
				}
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("could not discover endpoints of issuer %s (set token_url to skip discovery): %w", issuer, errors.Join(errs...))
}

func (r *Resolver) fetch(ctx context.Context, u string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	httpc := r.HTTP
	if httpc == nil {
		httpc = http.DefaultClient
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		return nil, fmt.Errorf("%s: not a JSON metadata document: %q", u, line)
	}
	return &m, nil
}

func (r *Resolver) cachePath(issuer string) string {
	if r.Dir == "" {
		return ""
	}
	h := sha256.Sum256([]byte(issuer))
	return filepath.Join(r.Dir, hex.EncodeToString(h[:8])+".json")
}

// Forget drops the cached metadata of issuer (after endpoints moved).
func (r *Resolver) Forget(issuer string) {
	if p := r.cachePath(issuer); p != "" {
		_ = os.Remove(p)
	}
}
