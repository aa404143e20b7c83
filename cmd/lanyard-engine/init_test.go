package main

import (
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/golden"
)

func TestInitDefaults(t *testing.T) {
	for _, tc := range []struct{ issuer, token, want string }{
		{"https://login.acme.example", "", "acme"},
		{"https://api.whenfresh.com", "", "whenfresh"},
		{"http://127.0.0.1:8080", "", "default"},
		{"", "https://sandbox.getwhiplash.com/oauth/token", "sandbox"},
		{"https://accounts.google.com", "", "google"},
	} {
		if got := defaultName(tc.issuer, tc.token); got != tc.want {
			t.Errorf("defaultName(%q, %q) = %q, want %q", tc.issuer, tc.token, got, tc.want)
		}
	}
	for _, tc := range []struct {
		advertised []string
		want       string
	}{
		{nil, "client_credentials"},
		{[]string{"authorization_code", "refresh_token"}, "authorization_code"},
		{[]string{"urn:ietf:params:oauth:grant-type:device_code"}, "device_code"},
		{[]string{"authorization_code", "client_credentials"}, "client_credentials"},
	} {
		if got := defaultGrant(tc.advertised); got != tc.want {
			t.Errorf("defaultGrant(%v) = %q, want %q", tc.advertised, got, tc.want)
		}
	}
	for _, tc := range []struct {
		secret     bool
		advertised []string
		want       string
	}{
		{false, nil, "none"}, {true, nil, "basic"}, {true, []string{"client_secret_post"}, "post"},
		{true, []string{"client_secret_post", "client_secret_basic"}, "basic"},
	} {
		if got := clientAuth(tc.secret, tc.advertised); got != tc.want {
			t.Errorf("clientAuth(%v, %v) = %q, want %q", tc.secret, tc.advertised, got, tc.want)
		}
	}
	for _, tc := range []struct {
		match []string
		want  string
	}{
		{[]string{"https://git.acme.example/"}, "lanyard setup git --global p"},
		{[]string{"https://registry.acme.example/"}, "lanyard setup docker p"},
		{[]string{"https://k8s.acme.example/"}, "kubectl lanyard setup --profile p --context CONTEXT"},
	} {
		if got := setupHint("p", tc.match); got != tc.want {
			t.Errorf("setupHint(%v) = %q, want %q", tc.match, got, tc.want)
		}
	}
}

func TestInitProfileGolden(t *testing.T) {
	spec := config.NewProfile{Name: "acme", Issuer: "https://login.acme.example", Grant: "client_credentials", ClientID: "ci-bot",
		HasSecret: true, ClientAuth: "post", Scopes: []string{"api.read", "api.write"}, Match: []string{"https://git.acme.example/?a=1&b=2"}}
	golden.Check(t, "init-profile.golden", []byte(spec.TOML(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))))
}
