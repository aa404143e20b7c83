package docker

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"
)

func TestServerURLs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		// docker credHelpers lookups and skopeo: the bare registry host.
		{"registry.example.com", []string{"https://registry.example.com", "http://registry.example.com"}},
		{"Registry.Example.COM", []string{"https://registry.example.com", "http://registry.example.com"}},
		{"  registry.example.com\n", []string{"https://registry.example.com", "http://registry.example.com"}},
		{"127.0.0.1:5000", []string{"https://127.0.0.1:5000", "http://127.0.0.1:5000"}},
		{"registry.example.com:443", []string{"https://registry.example.com", "http://registry.example.com:443"}},
		{"registry.example.com:80", []string{"https://registry.example.com:80", "http://registry.example.com"}},
		{"[::1]:5000", []string{"https://[::1]:5000", "http://[::1]:5000"}},
		{"[::1]", []string{"https://[::1]", "http://[::1]"}},
		// go-containerregistry asks for host/repository first.
		{"registry.example.com/team/app", []string{"https://registry.example.com/team/app", "http://registry.example.com/team/app"}},
		{"registry.example.com/v2", []string{"https://registry.example.com/v2", "http://registry.example.com/v2"}},
		{"ghcr.io/acme/", []string{"https://ghcr.io/acme", "http://ghcr.io/acme"}},
		// Full URLs keep their scheme; a lone /v1/ or /v2/ is docker's API path.
		{"https://index.docker.io/v1/", []string{"https://index.docker.io"}},
		{"https://registry.example.com/v2/", []string{"https://registry.example.com"}},
		{"https://registry.example.com/v2/team", []string{"https://registry.example.com/v2/team"}},
		{"http://127.0.0.1:5000", []string{"http://127.0.0.1:5000"}},
		{"HTTPS://Registry.example.com:443/team", []string{"https://registry.example.com/team"}},
		// Userinfo, queries and fragments are not part of a registry
		// address; parsers disagree on where the host is around them
		// (https://registry.example.com@evil.example, evil.example#@registry...),
		// so such an address is refused, never reinterpreted.
		{"HTTPS://user:pw@Registry.example.com:443/team?x=1#f", nil},
		{"https://registry.example.com@evil.example/x", nil},
		{"registry.example.com@evil.example", nil},
		{"https://evil.example#@registry.example.com", nil},
		{"evil.example#registry.example.com/team", nil},
		{"registry.example.com/team?x=1", nil},
		{"registry.example.com/team#frag", nil},
		{"registry.example.com/team%23/x", []string{"https://registry.example.com/team%23/x", "http://registry.example.com/team%23/x"}},
		// Docker Hub's other names.
		{"docker.io", []string{"https://index.docker.io", "http://index.docker.io"}},
		{"registry-1.docker.io/library/alpine", []string{"https://index.docker.io/library/alpine", "http://index.docker.io/library/alpine"}},
		// Escapes stay escapes; dot segments are never a repository.
		{"registry.example.com/team%3F/x", []string{"https://registry.example.com/team%3F/x", "http://registry.example.com/team%3F/x"}},
		{"registry.example.com/team/../other", nil},
		{"registry.example.com/team/%2e%2e/other", nil},
		{"https://registry.example.com/./v2/", nil},
		// Not registry addresses.
		{"", nil},
		{"   ", nil},
		{"ftp://registry.example.com", nil},
		{"tcp://127.0.0.1:2375", nil},
		{"registry example.com", nil},
		{"registry.example.com\x00", nil},
		{"https://", nil},
		{"/just/a/path", nil},
		{":5000", nil},
		{"registry.example.com:port", nil},
		{"%zz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ServerURLs(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServerKey(t *testing.T) {
	tests := []struct{ match, want string }{
		{"https://registry.example.com/", "registry.example.com"},
		{"https://registry.example.com:443", "registry.example.com"},
		{"https://registry.example.com:8443/", "registry.example.com:8443"},
		{"http://127.0.0.1:5000/", "127.0.0.1:5000"},
		{"https://ghcr.io/acme/", "ghcr.io/acme"},
		{"https://index.docker.io/", "https://index.docker.io/v1/"},
		{"https://docker.io", "https://index.docker.io/v1/"},
		{"https://index.docker.io/acme/", "index.docker.io/acme"},
	}
	for _, tt := range tests {
		got, ok := ServerKey(tt.match)
		if !ok || got != tt.want {
			t.Errorf("ServerKey(%q) = %q, %v; want %q", tt.match, got, ok, tt.want)
		}
	}
	if got, ok := ServerKey("registry.example.com"); ok {
		t.Errorf("ServerKey without scheme = %q, want not ok (match prefixes carry their scheme)", got)
	}
}

func TestParseServerURL(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "registry.example.com", "registry.example.com", nil},
		{"newline", "registry.example.com\n", "registry.example.com", nil},
		{"crlf", "registry.example.com\r\n", "registry.example.com", nil},
		// Upstream joins lines without separators; so do we.
		{"lines joined", "registry.\nexample.com\n", "registry.example.com", nil},
		{"spaces", "  https://index.docker.io/v1/  \n", "https://index.docker.io/v1/", nil},
		{"empty", "", "", ErrMissingServerURL},
		{"blank lines", "\n \n\t\n", "", ErrMissingServerURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseServerURL([]byte(tt.in))
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
	if _, err := ParseServerURL([]byte(strings.Repeat("a", 70000))); err == nil {
		t.Error("a 70000-byte line: got no error, want bufio's token too long, as upstream")
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name, in string
		want     *Credentials
		err      string
	}{
		{"ok", `{"ServerURL":"r.example.com","Username":"u","Secret":"s"}`, &Credentials{"r.example.com", "u", "s"}, ""},
		{"lower-case keys", `{"serverurl":"r.example.com","username":"u","secret":"s"}`, &Credentials{"r.example.com", "u", "s"}, ""},
		{"split over lines", "{\"ServerURL\":\"r.example.com\",\n\"Username\":\"u\"}\n", &Credentials{"r.example.com", "u", ""}, ""},
		{"trailing data ignored", `{"ServerURL":"r","Username":"u"} trailing`, &Credentials{"r", "u", ""}, ""},
		{"empty", "", nil, "store needs credentials on stdin"},
		{"malformed", `{"ServerURL":`, nil, "could not parse the credentials"},
		{"not an object", `["r.example.com"]`, nil, "could not parse the credentials"},
		{"wrong type", `{"ServerURL":1,"Username":"u"}`, nil, "could not parse the credentials"},
		{"missing server", `{"Username":"u","Secret":"s"}`, nil, credentials.NewErrCredentialsMissingServerURL().Error()},
		{"missing username", `{"ServerURL":"r.example.com","Secret":"s"}`, nil, credentials.NewErrCredentialsMissingUsername().Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil || *got != *tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// The texts clients compare are upstream's, character for character.
func TestProtocolErrorsMatchUpstream(t *testing.T) {
	if !credentials.IsErrCredentialsNotFoundMessage(ErrCredentialsNotFound.Error()) {
		t.Errorf("ErrCredentialsNotFound = %q, not upstream's text", ErrCredentialsNotFound)
	}
	if !credentials.IsCredentialsMissingServerURLMessage(ErrMissingServerURL.Error()) {
		t.Errorf("ErrMissingServerURL = %q, not upstream's text", ErrMissingServerURL)
	}
	if !credentials.IsCredentialsMissingUsernameMessage(ErrMissingUsername.Error()) {
		t.Errorf("ErrMissingUsername = %q, not upstream's text", ErrMissingUsername)
	}
	if !IsCredentialsNotFound(credentials.NewErrCredentialsNotFound()) || !IsCredentialsNotFound(errors.New(ErrCredentialsNotFound.Error()+"\n")) {
		t.Error("IsCredentialsNotFound does not recognise upstream's error or its printed text")
	}
	if IsCredentialsNotFound(nil) || IsCredentialsNotFound(ErrMissingServerURL) {
		t.Error("IsCredentialsNotFound recognises what is not the not-found answer")
	}
}

func TestFormat(t *testing.T) {
	// json.Encoder as upstream: HTML-escaped, one trailing newline.
	got := string(FormatCredentials(Credentials{ServerURL: "r.example.com", Username: "oauth2accesstoken", Secret: "a<b>&c"}))
	want := `{"ServerURL":"r.example.com","Username":"oauth2accesstoken","Secret":"a\u003cb\u003e\u0026c"}` + "\n"
	if got != want {
		t.Errorf("FormatCredentials: got %q, want %q", got, want)
	}
	if got := string(FormatList(nil)); got != "{}\n" {
		t.Errorf("FormatList(nil): got %q, want {}", got)
	}
	if got := string(FormatList(map[string]string{"b": "2", "a": "1"})); got != `{"a":"1","b":"2"}`+"\n" {
		t.Errorf("FormatList: got %q, want sorted keys", got)
	}
	if got := string(FormatVersion("v1.2.3")); got != "docker-credential-lanyard (github.com/lanyardhq/lanyard) v1.2.3\n" {
		t.Errorf("FormatVersion: got %q", got)
	}
}
