package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/discovery"
)

// hostile is server text that retitles the terminal, moves the cursor and
// reverses the display, as a discovery document or a Redis record may hold.
const hostile = "a\x1b]0;pwned\x07b\x1b[2Jc\u202ed\u009be"

func noControls(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\x07\u202e\u009b") {
		t.Errorf("%s reaches the terminal unfiltered: %q", what, s)
	}
}

// TestInitFiltersDiscovery: lanyard init prints the discovery document's
// lists (grant_types_supported, token_endpoint_auth_methods_supported,
// scopes_supported) without the control characters a server put there.
func TestInitFiltersDiscovery(t *testing.T) {
	m := &discovery.Metadata{
		Issuer: "https://idp.example", TokenEndpoint: "https://idp.example/token",
		GrantTypesSupported:               []string{"client_credentials", hostile},
		TokenEndpointAuthMethodsSupported: []string{hostile},
		ScopesSupported:                   []string{"openid", hostile},
	}
	var out bytes.Buffer
	describeProvider(&out, m)
	noControls(t, "describeProvider", out.String())
	if !strings.Contains(out.String(), "client_credentials") {
		t.Errorf("describeProvider dropped the grants: %q", out.String())
	}
	noControls(t, "the scopes hint", advertisedList(m.ScopesSupported))
}
