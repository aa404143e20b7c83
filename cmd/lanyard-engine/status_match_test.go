package main

import (
	"bytes"
	"testing"

	"github.com/lanyardhq/lanyard/internal/config"
)

func TestWritePrefixes(t *testing.T) {
	f, err := config.Parse("t.toml", []byte(`
[profiles.work]
grant = "device_code"
token_url = "https://github.com/login/oauth/access_token"
device_auth_url = "https://github.com/login/device/code"
client_id = "c"
match = ["https://work@github.com/"]

[profiles.personal]
grant = "device_code"
token_url = "https://github.com/login/oauth/access_token"
device_auth_url = "https://github.com/login/device/code"
client_id = "c"
match = ["https://github.com/", "https://gitlab.com/"]
`))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writePrefixes(&b, f, f.Names()); err != nil {
		t.Fatal(err)
	}
	want := `
PREFIX                    SERVED BY
https://github.com/       personal
https://work@github.com/  work
https://gitlab.com/       personal
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
