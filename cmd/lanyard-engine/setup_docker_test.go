package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const setupDockerProfiles = `
[profiles.registry]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:SECRET"
match = ["https://registry.example.com/", "http://127.0.0.1:5000"]

[profiles.team]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:SECRET"
match = ["https://registry.example.com/team/", "https://ghcr.io/acme/"]

[profiles.api]
grant = "client_credentials"
token_url = "https://auth.example.com/token"
client_id = "c"
client_secret = "env:SECRET"
`

func TestSetupDocker(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"HOME": home, "LANYARD_CONFIG": filepath.Join(home, "config.toml"), "DOCKER_CONFIG": filepath.Join(home, "docker")}
	if err := os.WriteFile(vars["LANYARD_CONFIG"], []byte(setupDockerProfiles), 0o600); err != nil {
		t.Fatal(err)
	}
	dockerConfig := filepath.Join(vars["DOCKER_CONFIG"], "config.json")
	if err := os.MkdirAll(vars["DOCKER_CONFIG"], 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dockerConfig, []byte(`{"auths":{"quay.io":{"auth":"dTpw"}},"credHelpers":{"gcr.io":"gcloud","127.0.0.1:5000":"desktop"},"psFormat":"table"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	lanyard := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := Main(args, strings.NewReader(""), &out, &errOut, func(k string) string { return vars[k] })
		return code, out.String(), errOut.String()
	}
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(dockerConfig)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // substring
		stderr   string // substring
		fileHas  []string
		sameFile bool
	}{
		{
			name: "default registry is the first match's host", args: []string{"setup", "docker", "registry"},
			stdout: dockerConfig + `: added credHelpers["registry.example.com"] = "lanyard"`,
			fileHas: []string{
				"{\n\t\"auths\": {\n\t\t\"quay.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"127.0.0.1:5000\": \"desktop\",\n\t\t\"registry.example.com\": \"lanyard\"\n\t},\n\t\"psFormat\": \"table\"\n}\n",
			},
		},
		{
			name: "idempotent", args: []string{"setup", "docker", "registry"},
			stdout: `credHelpers["registry.example.com"] = "lanyard" already; nothing to do`, sameFile: true,
		},
		{
			name: "explicit registry replaces another helper", args: []string{"setup", "docker", "registry", "--registry", "127.0.0.1:5000"},
			stdout: `set credHelpers["127.0.0.1:5000"] = "lanyard" (was "desktop")`, fileHas: []string{`"gcr.io": "gcloud"`, `"registry.example.com": "lanyard"`, `"127.0.0.1:5000": "lanyard"`},
		},
		{
			name: "profile matching a path on another host", args: []string{"setup", "docker", "team", "--registry", "https://ghcr.io/"},
			stdout: `added credHelpers["ghcr.io"] = "lanyard"`, fileHas: []string{`"ghcr.io": "lanyard"`},
		},
		{
			name: "host claimed by another profile", args: []string{"setup", "docker", "team"},
			stdout: "nothing to do", stderr: `get profile "registry"'s token, since it claims the whole host; profile "team" serves only clients that send repository paths`, sameFile: true,
		},
		{
			name: "registry the profile does not match", args: []string{"setup", "docker", "registry", "--registry", "quay.io"}, code: 1,
			stderr: `profile "registry" does not match registry quay.io`, sameFile: true,
		},
		{
			name: "profile without match", args: []string{"setup", "docker", "api"}, code: 1,
			stderr: `profile "api" has no match list`, sameFile: true,
		},
		{
			name: "not a host", args: []string{"setup", "docker", "registry", "--registry", "not a host"}, code: 1,
			stderr: "is not a registry host", sameFile: true,
		},
		{
			name: "unknown profile", args: []string{"setup", "docker", "nope"}, code: 2,
			stderr: "known profiles: api, registry, team", sameFile: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := read()
			code, out, errOut := lanyard(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stdout %q, stderr %q; want %q and %q in them", out, errOut, tt.stdout, tt.stderr)
			}
			after := read()
			if tt.sameFile && after != before {
				t.Errorf("the file changed:\n%s", after)
			}
			for _, s := range tt.fileHas {
				if !strings.Contains(after, s) {
					t.Errorf("file lacks %q:\n%s", s, after)
				}
			}
		})
	}
}

func TestSetupDockerDefaultPath(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"HOME": home, "LANYARD_CONFIG": filepath.Join(home, "config.toml")}
	if err := os.WriteFile(vars["LANYARD_CONFIG"], []byte(setupDockerProfiles), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"setup", "docker", "registry"}, strings.NewReader(""), &out, &errOut, func(k string) string { return vars[k] }); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	path := filepath.Join(home, ".docker", "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "{\n\t\"credHelpers\": {\n\t\t\"registry.example.com\": \"lanyard\"\n\t}\n}\n" {
		t.Errorf("%s:\n%s", path, b)
	}
	if !strings.Contains(out.String(), path+": created with") {
		t.Errorf("stdout %q does not say the file was created", out.String())
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}
