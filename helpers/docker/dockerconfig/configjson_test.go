package dockerconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetCredHelper(t *testing.T) {
	tests := []struct {
		name, before, want string
		key                string
		changed, created   bool
		was                string
		staleAuth          bool
	}{
		{
			name: "no file", before: "", key: "registry.example.com",
			want:    "{\n\t\"credHelpers\": {\n\t\t\"registry.example.com\": \"lanyard\"\n\t}\n}\n",
			changed: true, created: true,
		},
		{
			name: "empty file", before: " \n", key: "registry.example.com",
			want:    "{\n\t\"credHelpers\": {\n\t\t\"registry.example.com\": \"lanyard\"\n\t}\n}\n",
			changed: true,
		},
		{
			// Every other key stays, in its order; unknown keys too.
			name:   "keeps other keys in order",
			before: `{"psFormat":"table","auths":{"other.example.com":{"auth":"dTpw"}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"zz-unknown":[1,{"b":2,"a":1}],"detachKeys":"ctrl-e,e"}`,
			key:    "registry.example.com",
			want: "{\n\t\"psFormat\": \"table\",\n\t\"auths\": {\n\t\t\"other.example.com\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"credsStore\": \"desktop\",\n" +
				"\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\",\n\t\t\"registry.example.com\": \"lanyard\"\n\t},\n" +
				"\t\"zz-unknown\": [\n\t\t1,\n\t\t{\n\t\t\t\"b\": 2,\n\t\t\t\"a\": 1\n\t\t}\n\t],\n\t\"detachKeys\": \"ctrl-e,e\"\n}\n",
			changed: true,
		},
		{
			name: "credHelpers added at the end", before: "{\n  \"auths\": {}\n}\n", key: "127.0.0.1:5000",
			want:    "{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"127.0.0.1:5000\": \"lanyard\"\n\t}\n}\n",
			changed: true,
		},
		{
			name: "null credHelpers", before: `{"credHelpers":null}`, key: "registry.example.com",
			want:    "{\n\t\"credHelpers\": {\n\t\t\"registry.example.com\": \"lanyard\"\n\t}\n}\n",
			changed: true,
		},
		{
			name: "replaces another helper", before: `{"credHelpers":{"a.example.com":"x","registry.example.com":"gcloud","z.example.com":"y"}}`, key: "registry.example.com",
			want:    "{\n\t\"credHelpers\": {\n\t\t\"a.example.com\": \"x\",\n\t\t\"registry.example.com\": \"lanyard\",\n\t\t\"z.example.com\": \"y\"\n\t}\n}\n",
			changed: true, was: "gcloud",
		},
		{
			name: "stale auth noted", before: `{"auths":{"registry.example.com":{"auth":"dTpw"}}}`, key: "registry.example.com",
			want:    "{\n\t\"auths\": {\n\t\t\"registry.example.com\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"credHelpers\": {\n\t\t\"registry.example.com\": \"lanyard\"\n\t}\n}\n",
			changed: true, staleAuth: true,
		},
		{
			// Already set: the file is left byte for byte as it was.
			name: "idempotent", before: "{\"credHelpers\": {\"registry.example.com\": \"lanyard\"},   \"x\": 1}", key: "registry.example.com",
			want: "{\"credHelpers\": {\"registry.example.com\": \"lanyard\"},   \"x\": 1}",
		},
		{
			name: "html characters and unicode kept", before: `{"x":"<a&b>","y":"é\u00e9"}`, key: "r.example.com",
			want:    "{\n\t\"x\": \"<a&b>\",\n\t\"y\": \"é\\u00e9\",\n\t\"credHelpers\": {\n\t\t\"r.example.com\": \"lanyard\"\n\t}\n}\n",
			changed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "docker", "config.json")
			if tt.before != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.before), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			ch, err := SetCredHelper(path, tt.key, HelperName)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Changed != tt.changed || ch.Created != tt.created || ch.Was != tt.was || ch.StaleAuth != tt.staleAuth {
				t.Errorf("got %+v, want changed=%v created=%v was=%q staleAuth=%v", ch, tt.changed, tt.created, tt.was, tt.staleAuth)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file:\ngot:\n%s\nwant:\n%s", got, tt.want)
			}
			fi, _ := os.Stat(path)
			wantMode := os.FileMode(0o640)
			if tt.before == "" {
				wantMode = 0o600
			}
			if fi.Mode().Perm() != wantMode {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), wantMode)
			}
			// A second run changes nothing.
			ch, err = SetCredHelper(path, tt.key, HelperName)
			if err != nil || ch.Changed {
				t.Errorf("second run: %+v, %v; want no change", ch, err)
			}
			again, _ := os.ReadFile(path)
			if string(again) != string(got) {
				t.Errorf("second run rewrote the file:\n%s", again)
			}
		})
	}
}

func TestSetCredHelperThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles-docker.json")
	if err := os.WriteFile(real, []byte(`{"auths":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := SetCredHelper(link, "r.example.com", HelperName); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced by a file (%v)", err)
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), `"r.example.com": "lanyard"`) {
		t.Errorf("the link target was not updated: %s", b)
	}
}

func TestSetCredHelperRefusesBrokenFiles(t *testing.T) {
	for _, before := range []string{`{"auths":`, `[1,2]`, `{"credHelpers":["x"]}`, `{"a":1} {"b":2}`, `{"credHelpers":{"r.example.com":1`} {
		path := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := SetCredHelper(path, "r.example.com", HelperName); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, want an error naming the file", before, err)
		}
		if b, _ := os.ReadFile(path); string(b) != before {
			t.Errorf("%s: a broken file was rewritten: %s", before, b)
		}
	}
}

func TestCredHelperKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"registry.example.com", "registry.example.com"},
		{"https://registry.example.com/team/", "registry.example.com"},
		{"http://127.0.0.1:5000", "127.0.0.1:5000"},
		{"127.0.0.1:5000", "127.0.0.1:5000"},
		{"docker.io", "https://index.docker.io/v1/"},
		{"https://index.docker.io/v1/", "https://index.docker.io/v1/"},
	}
	for _, tt := range tests {
		got, err := CredHelperKey(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CredHelperKey(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := CredHelperKey("not a host"); err == nil || !strings.Contains(err.Error(), "registry.example.com") {
		t.Errorf("got %v, want an error with an example host", err)
	}
}
