package config_test

import (
	"strings"
	"testing"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/config"
)

func TestSelectKubectl(t *testing.T) {
	cfg, err := config.Parse("/p/config.toml", []byte(`
[profiles.prod]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "x"
client_secret = "env:S"
match = ["https://prod.k8s.example.com"]

[profiles.staging]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "x"
client_secret = "env:S"
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		flag            string
		server, cluster string
		want            string // profile name
		wantErr         string
	}{
		{"flag wins", "staging", "https://prod.k8s.example.com", "prod", "staging", ""},
		{"cluster extension", "", "https://prod.k8s.example.com", "prod", "prod", ""},
		// A profile without match serves no cluster in cluster-aware mode,
		// even one that names it: any kubeconfig entry could.
		{"cluster extension, profile without match", "", "https://10.0.0.1:6443", "staging", "", `profile "staging" has no match list, so it serves no cluster in cluster-aware mode; set match (the API server URLs it serves) in [profiles.staging] at /p/config.toml:`},
		{"by match", "", "https://prod.k8s.example.com", "", "prod", ""},
		{"by match, default port", "", "https://prod.k8s.example.com:443", "", "prod", ""},
		{"extension names a profile for another server", "", "https://evil.example.com", "prod", "", `cluster https://evil.example.com names it in its kubeconfig extension client.authentication.k8s.io/exec: profile "prod" will not send its token to https://evil.example.com`},
		{"extension names an unknown profile", "", "https://x", "nope", "", `profile "nope" not found`},
		{"no profile serves the server", "", "https://other.example.com", "", "", `no lanyard profile serves cluster https://other.example.com: add match = ["https://other.example.com"] to its profile in /p/config.toml`},
		{"no flag, no cluster", "", "", "", "", "get-token needs --profile, or provideClusterInfo: true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := config.Select(cfg, nil, config.Query{Tool: wire.ToolKubectl, Profile: tt.flag, URL: tt.server, ClusterProfile: tt.cluster})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error %q", p, err, tt.wantErr)
				}
				return
			}
			if err != nil || p == nil || p.Name != tt.want {
				t.Fatalf("got %v, %v; want profile %q", p, err, tt.want)
			}
		})
	}
}

func TestSelectDockerRefusesIdentityTokenUsernameAtLoad(t *testing.T) {
	_, err := config.Parse("/p/config.toml", []byte(`
[profiles.reg]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "x"
client_secret = "env:S"
match = ["https://registry.example.com"]
docker_username = "<token>"
`))
	if err == nil || !strings.Contains(err.Error(), "/p/config.toml:") || !strings.Contains(err.Error(), "docker_username") {
		t.Fatalf("got %v; want an error naming the file, line and docker_username", err)
	}
}

func TestSelectNoMatchIsNotAnError(t *testing.T) {
	cfg, err := config.Parse("/p/config.toml", []byte(`
[profiles.acme]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "x"
client_secret = "env:S"
match = ["https://git.example.com/acme/"]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    config.Query
		want string // profile, "" for no match
	}{
		{"git by match", config.Query{Tool: wire.ToolGit, URL: "https://git.example.com/acme/x.git"}, "acme"},
		{"git elsewhere", config.Query{Tool: wire.ToolGit, URL: "https://git.example.com/other/x.git"}, ""},
		{"git pinned outside match", config.Query{Tool: wire.ToolGit, Profile: "acme", URL: "https://evil.example.com/acme/x.git"}, ""},
		{"docker candidates", config.Query{Tool: wire.ToolDocker, Candidates: []string{"https://registry.example.com", "https://git.example.com/acme/"}}, "acme"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := config.Select(cfg, nil, c.q)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if p != nil {
				got = p.Name
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestSelectMCP: lanyard mcp names its profile; a profile without its own
// resource asks for the server's canonical URI, one with a resource key
// keeps it.
func TestSelectMCP(t *testing.T) {
	cfg, err := config.Parse("/p/config.toml", []byte(`
[profiles.plain]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "x"
client_secret = "env:S"

[profiles.own]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "x"
client_secret = "env:S"
resource = ["https://api.example.com"]
`))
	if err != nil {
		t.Fatal(err)
	}
	const server = "https://mcp.example.com/mcp"
	p, err := config.Select(cfg, nil, config.Query{Tool: wire.ToolMCP, Profile: "plain", Resource: server})
	if err != nil || p == nil || strings.Join(p.Resources(), " ") != server {
		t.Fatalf("plain: got %+v, %v; want resources [%s]", p, err, server)
	}
	if len(cfg.Profiles["plain"].DefaultResource) != 0 {
		t.Error("Select changed the loaded profile")
	}
	p, err = config.Select(cfg, nil, config.Query{Tool: wire.ToolMCP, Profile: "own", Resource: server})
	if err != nil || p == nil || strings.Join(p.Resources(), " ") != "https://api.example.com" {
		t.Fatalf("own: got %+v, %v; want its own resource", p, err)
	}
	if _, err := config.Select(cfg, nil, config.Query{Tool: wire.ToolMCP, Profile: "nope", Resource: server}); err == nil || !strings.Contains(err.Error(), `profile "nope" not found`) {
		t.Errorf("unknown profile: got %v", err)
	}
}

// lanyard proxy asks for the profile it picked by the request's host: the
// token goes only to a URL within that profile's match prefixes.
func TestSelectProxy(t *testing.T) {
	cfg, err := config.Parse("/p/config.toml", []byte(`
[profiles.api]
grant = "client_credentials"
token_url = "https://idp.example.com/token"
client_id = "x"
client_secret = "env:S"
match = ["https://api.example.com/"]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, profile, url string
		want, wantErr      string
	}{
		{"within match", "api", "https://api.example.com/v1/items", "api", ""},
		{"no url", "api", "", "api", ""},
		{"another host", "api", "https://evil.example.com/v1", "", "evil.example.com"},
		{"plain http", "api", "http://api.example.com/v1", "", "http://api.example.com/v1"},
		{"unknown profile", "nope", "https://api.example.com/", "", `profile "nope" not found`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := config.Select(cfg, nil, config.Query{Tool: wire.ToolProxy, Profile: c.profile, URL: c.url})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", p, err, c.wantErr)
				}
				return
			}
			if err != nil || p == nil || p.Name != c.want {
				t.Fatalf("got %v, %v; want profile %q", p, err, c.want)
			}
		})
	}
}
