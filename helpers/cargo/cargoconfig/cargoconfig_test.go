package cargoconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetProvider(t *testing.T) {
	lanyard := []string{"cargo-credential-lanyard"}
	const line = `credential-provider = ["cargo-credential-lanyard"]`
	tests := []struct {
		name, before, want string
		replace            bool
		changed            bool
		err                error
		errHas             string
	}{
		{name: "new file", before: "\x00", want: "[registries.acme]\n" + line + "\n", changed: true},
		{name: "append, other tables kept", before: "# mine\n[registries.other]\nindex = \"sparse+https://o/\"\ncredential-provider = \"cargo:token\"\n", want: "# mine\n[registries.other]\nindex = \"sparse+https://o/\"\ncredential-provider = \"cargo:token\"\n\n[registries.acme]\n" + line + "\n", changed: true},
		{name: "insert into table", before: "[registries.acme] # ours\nindex = \"sparse+https://a/\"\n\n[net]\nretry = 2\n", want: "[registries.acme] # ours\n" + line + "\nindex = \"sparse+https://a/\"\n\n[net]\nretry = 2\n", changed: true},
		{name: "already set", before: "[registries.acme]\n" + line + "\n", want: "[registries.acme]\n" + line + "\n"},
		{name: "already set as string", before: "[registries.acme]\ncredential-provider = \"cargo-credential-lanyard\"\n", want: "[registries.acme]\ncredential-provider = \"cargo-credential-lanyard\"\n"},
		{name: "other provider refused", before: "[registries.acme]\ncredential-provider = \"cargo:token\"\n", want: "[registries.acme]\ncredential-provider = \"cargo:token\"\n", err: ErrOtherProvider},
		{name: "other provider replaced", before: "[registries.acme]\ncredential-provider = \"cargo:token\"\nindex = \"x\"\n", want: "[registries.acme]\n" + line + "\nindex = \"x\"\n", replace: true, changed: true},
		{name: "inline table", before: "[registries]\nacme = { index = \"sparse+https://a/\" }\n", want: "[registries]\nacme = { index = \"sparse+https://a/\" }\n", errHas: "add credential-provider"},
		{name: "broken toml", before: "[registries\n", want: "[registries\n", errHas: "fix it first"},
		{name: "global providers kept", before: "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n", want: "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n\n[registries.acme]\n" + line + "\n", changed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if tt.before != "\x00" {
				if err := os.WriteFile(path, []byte(tt.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ch, err := SetProvider(path, "acme", lanyard, tt.replace)
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("got %v, want %v", err, tt.err)
				}
			case tt.errHas != "":
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("got %v, want an error containing %q", err, tt.errHas)
				}
			case err != nil:
				t.Fatal(err)
			}
			if ch.Changed != tt.changed {
				t.Errorf("changed: got %v, want %v", ch.Changed, tt.changed)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
