package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/backchannel"
	"github.com/lanyardhq/lanyard/plugin"
)

// DefaultAPIURL is GitHub.com's REST API. GitHub Enterprise Server:
// https://HOST/api/v3.
const DefaultAPIURL = "https://api.github.com"

// App mints GitHub App installation tokens.
type App struct {
	Version string
	// HTTP is the client for GitHub's API; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Now is the clock for the JWT; nil means time.Now.
	Now func() time.Time
}

// Describe names the plugin and its settings.
func (a *App) Describe(context.Context) (*plugin.Description, error) {
	return &plugin.Description{
		Name:    "github-app",
		Version: a.Version,
		Settings: []plugin.Setting{
			{Name: "app_id", Required: true, Description: "the app's ID (or client ID), from its settings page"},
			{Name: "installation_id", Required: true, Description: "the installation's ID: the number at the end of https://github.com/settings/installations/ID"},
			{Name: "private_key", Required: true, Secret: true, Description: "the app's PEM private key, by reference: file:PATH, env:NAME, cmd:COMMAND or keyring"},
			{Name: "api_url", Description: "REST API base, default " + DefaultAPIURL + "; GitHub Enterprise Server: https://HOST/api/v3"},
			{Name: "repositories", Description: "comma-separated repository names to limit the token to (default: all the installation may access)"},
			{Name: "permissions", Description: "comma-separated name=level pairs to limit the token to, e.g. contents=write,metadata=read"},
		},
	}, nil
}

// settings are the parsed profile settings.
type settings struct {
	appID, installationID, apiURL string
	privateKey                    []byte
	repositories                  []string
	permissions                   map[string]string
}

func parseSettings(s map[string]string) (*settings, error) {
	out := &settings{
		appID:          strings.TrimSpace(s["app_id"]),
		installationID: strings.TrimSpace(s["installation_id"]),
		apiURL:         strings.TrimRight(strings.TrimSpace(s["api_url"]), "/"),
		privateKey:     []byte(s["private_key"]),
	}
	if out.appID == "" {
		return nil, &plugin.SettingError{Setting: "app_id", Msg: "missing; set it to the app's ID from its settings page"}
	}
	if !digits.MatchString(out.installationID) {
		return nil, &plugin.SettingError{Setting: "installation_id", Msg: fmt.Sprintf("%q is not a number; use the ID at the end of the installation's settings URL", out.installationID)}
	}
	if out.apiURL == "" {
		out.apiURL = DefaultAPIURL
	}
	u, err := url.Parse(out.apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, &plugin.SettingError{Setting: "api_url", Msg: fmt.Sprintf("%q is not an https URL; use %s or https://HOST/api/v3", out.apiURL, DefaultAPIURL)}
	}
	for _, r := range strings.Split(s["repositories"], ",") {
		if r = strings.TrimSpace(r); r != "" {
			out.repositories = append(out.repositories, r)
		}
	}
	for _, p := range strings.Split(s["permissions"], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, &plugin.SettingError{Setting: "permissions", Msg: fmt.Sprintf("%q is not name=level, e.g. contents=read", p)}
		}
		if out.permissions == nil {
			out.permissions = map[string]string{}
		}
		out.permissions[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Token signs a JWT as the app and exchanges it for an installation token
// (POST /app/installations/{installation_id}/access_tokens). Installation
// tokens cannot be refreshed, so there is no state: lanyard caches the
// token for its hour and calls again when it runs out.
func (a *App) Token(ctx context.Context, raw map[string]string, _ string) (*plugin.Token, error) {
	s, err := parseSettings(raw)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(s.privateKey)
	if err != nil {
		return nil, &plugin.SettingError{Setting: "private_key", Msg: err.Error()}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	jwt, err := appJWT(key, s.appID, now())
	if err != nil {
		return nil, err
	}
	body := map[string]any{}
	if len(s.repositories) > 0 {
		body["repositories"] = s.repositories
	}
	if len(s.permissions) > 0 {
		body["permissions"] = s.permissions
	}
	reqBody, _ := json.Marshal(body)
	endpoint := s.apiURL + "/app/installations/" + s.installationID + "/access_tokens"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(reqBody))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lanyard-grant-github-app/"+a.Version)
	plugin.Logger().Debug("requesting installation token", "url", endpoint, "app_id", s.appID)

	// The request carries the app's JWT: follow no redirect.
	resp, err := backchannel.NoRedirects(a.HTTP).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("POST %s: reading the response: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, apiError(endpoint, resp.StatusCode, data, s)
	}
	var out struct {
		Token               string            `json:"token"`
		ExpiresAt           time.Time         `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("POST %s: the response is not the JSON GitHub sends (%v): %q", endpoint, err, firstLine(data))
	}
	if out.Token == "" {
		return nil, fmt.Errorf("POST %s: the response has no token", endpoint)
	}
	extra := map[string]string{}
	if out.RepositorySelection != "" {
		extra["repository_selection"] = out.RepositorySelection
	}
	if len(out.Permissions) > 0 {
		perms := make([]string, 0, len(out.Permissions))
		for k, v := range out.Permissions {
			perms = append(perms, k+"="+v)
		}
		sort.Strings(perms)
		extra["permissions"] = strings.Join(perms, ",")
	}
	plugin.Logger().Debug("installation token issued", "expires_at", out.ExpiresAt, "repository_selection", out.RepositorySelection)
	return &plugin.Token{AccessToken: out.Token, TokenType: "Bearer", Expiry: out.ExpiresAt, Extra: extra}, nil
}

// apiError says what GitHub's refusal means for the profile's settings.
func apiError(endpoint string, status int, data []byte, s *settings) error {
	var e struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	msg := fmt.Sprintf("%q", firstLine(data))
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		msg = e.Message
		if e.DocumentationURL != "" {
			msg += " (see " + e.DocumentationURL + ")"
		}
	}
	base := fmt.Sprintf("POST %s answered HTTP %d: %s", endpoint, status, msg)
	switch status {
	case http.StatusUnauthorized:
		return &plugin.SettingError{Setting: "private_key", Msg: base + fmt.Sprintf("; GitHub rejected the app's JWT: check that app_id %s and private_key belong to the same app, and this machine's clock", s.appID)}
	case http.StatusNotFound:
		return &plugin.SettingError{Setting: "installation_id", Msg: base + fmt.Sprintf("; app %s has no installation %s (or api_url is wrong)", s.appID, s.installationID)}
	case http.StatusUnprocessableEntity:
		return &plugin.SettingError{Setting: "permissions", Msg: base + "; check repositories and permissions against what the installation was granted"}
	}
	return errors.New(base)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
