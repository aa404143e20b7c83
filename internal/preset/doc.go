package preset

import (
	"fmt"
	"strings"
)

// Markdown renders the presets section of docs/presets.md from the data,
// so the page and the presets never disagree (docs_test.go checks it).
func Markdown() (string, error) {
	var b strings.Builder
	for _, p := range All {
		s, err := p.Expand(map[string]string{"okta": "https://YOUR.okta.com", "auth0": "https://TENANT.auth0.com", "keycloak": "https://sso.example.com/realms/REALM"}[p.Name])
		if err != nil {
			return "", fmt.Errorf("preset %s: %w", p.Name, err)
		}
		fmt.Fprintf(&b, "### %s\n\n", p.Title)
		cmd := "lanyard init " + p.Name
		if p.DefaultURL == "" {
			cmd += " " + s.URL
		}
		fmt.Fprintf(&b, "`%s --client-id ID`", cmd)
		if p.DefaultURL != "" && p.URLHelp != "" {
			fmt.Fprintf(&b, " (or add the URL of %s)", p.URLHelp)
		}
		b.WriteString("\n\n")
		endpoints := s.Issuer
		if endpoints != "" {
			endpoints = "discovery at " + endpoints
		} else {
			endpoints = strings.TrimSuffix(strings.Join([]string{s.AuthURL, s.TokenURL, s.DeviceURL}, ", "), ", ")
		}
		fmt.Fprintf(&b, "- endpoints: %s\n", endpoints)
		pkce := "S256"
		if p.PKCE == "none" {
			pkce = "none"
		}
		client := "public client (no secret)"
		if p.Secret {
			client = "client secret (`--client-secret-stdin`, kept in the keyring)"
		}
		fmt.Fprintf(&b, "- grant: `%s`, PKCE %s, %s\n", p.Grant, pkce, client)
		if len(p.Scopes) > 0 {
			fmt.Fprintf(&b, "- scopes: `%s`\n", strings.Join(p.Scopes, " "))
		}
		if p.ResponseMode != "" {
			fmt.Fprintf(&b, "- response_mode: `%s`\n", p.ResponseMode)
		}
		if p.GitUsername != "" {
			fmt.Fprintf(&b, "- git username: `%s`", p.GitUsername)
			if p.GitAuth != "" {
				fmt.Fprintf(&b, ", git_auth `%s` (git 2.46+)", p.GitAuth)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "- refresh: %s\n", p.Refresh)
		fmt.Fprintf(&b, "- register at %s, redirect URI `%s`:\n", s.RegisterURL, p.RedirectURI)
		for i, step := range s.Register {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, step)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
