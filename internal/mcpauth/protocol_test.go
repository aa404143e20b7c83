package mcpauth

import (
	"net/url"
	"strings"
	"testing"
)

func TestServerURL(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"https://mcp.example.com/mcp", ""},
		{"http://127.0.0.1:8080/mcp", ""},
		{"http://localhost/mcp", ""},
		{"http://[::1]:9/mcp", ""},
		{"http://mcp.example.com/mcp", "use https"},
		{"mcp.example.com", "not an MCP server URL"},
		{"https://u:p@mcp.example.com/", "remove the user:password"},
		{"https://mcp.example.com/#x", "remove the #fragment"},
		{"ftp://mcp.example.com/", "use https"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ServerURL(tt.in)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("got %v, want error containing %q", err, tt.err)
			}
		})
	}
}

func TestOriginAndResource(t *testing.T) {
	tests := []struct{ in, origin, resource string }{
		{"https://MCP.Example.com/mcp", "https://mcp.example.com", "https://mcp.example.com/mcp"},
		{"https://mcp.example.com:443/mcp/", "https://mcp.example.com", "https://mcp.example.com/mcp"},
		{"http://127.0.0.1:8080/mcp?x=1", "http://127.0.0.1:8080", "http://127.0.0.1:8080/mcp"},
		{"https://mcp.example.com", "https://mcp.example.com", "https://mcp.example.com"},
		{"http://[::1]:80/", "http://[::1]", "http://[::1]"},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.in)
		if got := Origin(u); got != tt.origin {
			t.Errorf("Origin(%s): got %q, want %q", tt.in, got, tt.origin)
		}
		if got := CanonicalResource(u); got != tt.resource {
			t.Errorf("CanonicalResource(%s): got %q, want %q", tt.in, got, tt.resource)
		}
	}
}

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		in   string
		want Challenge
		ok   bool
	}{
		{`Bearer error="invalid_token", error_description="expired", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`,
			Challenge{Error: "invalid_token", ResourceMetadata: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"}, true},
		{`Bearer error="insufficient_scope", scope="files:read files:write"`, Challenge{Error: "insufficient_scope", Scope: "files:read files:write"}, true},
		{`Basic realm="x", Bearer realm="y", scope=a`, Challenge{Scope: "a"}, true},
		{`Bearer`, Challenge{}, true},
		{`Basic realm="x"`, Challenge{}, false},
		{``, Challenge{}, false},
		{`Bearer scope="a\"b"`, Challenge{Scope: `a"b`}, true},
	}
	for _, tt := range tests {
		got, ok := ParseChallenge(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseChallenge(%q): got %+v %v, want %+v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNames(t *testing.T) {
	u, _ := url.Parse("https://MCP.example.com:8443/mcp")
	if got := ServerName(u); got != "mcp-example-com" {
		t.Errorf("ServerName: got %q", got)
	}
	if got := ProfileName(u); got != "mcp-mcp-example-com-8443" {
		t.Errorf("ProfileName: got %q", got)
	}
}

func TestStepUpScopes(t *testing.T) {
	tests := []struct {
		c    Challenge
		want string
	}{
		{Challenge{Error: "insufficient_scope", Scope: "files:read  files:write"}, "files:read files:write"},
		{Challenge{Error: "insufficient_scope"}, ""},
		{Challenge{Error: "invalid_token", Scope: "a"}, ""},
		{Challenge{Error: "insufficient_scope", Scope: `a "b`}, ""},
		{Challenge{Error: "insufficient_scope", Scope: "a\\b"}, ""},
		{Challenge{Error: "insufficient_scope", Scope: "é"}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(StepUpScopes(tt.c), " "); got != tt.want {
			t.Errorf("StepUpScopes(%+v): got %q, want %q", tt.c, got, tt.want)
		}
	}
}
