package cargo

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name, in      string
		kind, op, url string
		wantErr       string
	}{
		{name: "read", in: `{"v":1,"registry":{"index-url":"sparse+https://crates.example.com/index/","name":"acme"},"kind":"get","operation":"read","args":[]}`, kind: "get", op: "read", url: "https://crates.example.com/index/"},
		{name: "publish", in: `{"v":1,"registry":{"index-url":"sparse+https://r.example/i/"},"kind":"get","operation":"publish","name":"a","vers":"0.1.0","cksum":"ab"}`, kind: "get", op: "publish", url: "https://r.example/i/"},
		{name: "git index", in: `{"v":1,"registry":{"index-url":"https://github.com/rust-lang/crates.io-index"},"kind":"get","operation":"read"}`, kind: "get", op: "read", url: "https://github.com/rust-lang/crates.io-index"},
		{name: "login with token", in: `{"v":1,"registry":{"index-url":"sparse+https://r.example/"},"kind":"login","token":"s3cret","login-url":"https://r.example/me"}`, kind: "login", url: "https://r.example/"},
		{name: "logout", in: `{"v":1,"registry":{"index-url":"sparse+https://r.example/"},"kind":"logout"}`, kind: "logout", url: "https://r.example/"},
		{name: "unknown fields kept quiet", in: `{"extra":1,"v":1,"registry":{"index-url":"u","headers":["WWW-Authenticate: Cargo login_url=\"x\""],"more":true},"kind":"get","operation":"owners","name":"p"}`, kind: "get", op: "owners", url: "u"},
		{name: "future kind", in: `{"v":1,"registry":{"index-url":"u"},"kind":"rotate"}`, kind: "rotate", url: "u"},
		{name: "version 2", in: `{"v":2,"registry":{"index-url":"u"},"kind":"get"}`, wantErr: "unsupported protocol version 2"},
		{name: "no version", in: `{"registry":{"index-url":"u"},"kind":"get"}`, wantErr: "unsupported protocol version 0"},
		{name: "no index url", in: `{"v":1,"registry":{},"kind":"get"}`, wantErr: "registry.index-url is missing"},
		{name: "not json", in: `v=1`, wantErr: "invalid character"},
		{name: "wrong type", in: `{"v":"1"}`, wantErr: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRequest([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.kind || r.Operation != tt.op || r.IndexURL() != tt.url {
				t.Errorf("got kind %q op %q url %q, want %q %q %q", r.Kind, r.Operation, r.IndexURL(), tt.kind, tt.op, tt.url)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	exp := time.Unix(1693942857, 0)
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"bearer expires", Get{Token: "tok", Expiry: exp}.Format(), `{"Ok":{"kind":"get","token":"Bearer tok","cache":"expires","expiration":1693942857,"operation_independent":true}}`},
		{"bare", Get{Token: "tok", Expiry: exp, Bare: true}.Format(), `{"Ok":{"kind":"get","token":"tok","cache":"expires","expiration":1693942857,"operation_independent":true}}`},
		{"no expiry: session", Get{Token: "tok"}.Format(), `{"Ok":{"kind":"get","token":"Bearer tok","cache":"session","operation_independent":true}}`},
		{"url not supported", Fail(ErrURLNotSupported, ""), `{"Err":{"kind":"url-not-supported"}}`},
		{"other", Fail(ErrOther, "run: lanyard login p"), `{"Err":{"kind":"other","message":"run: lanyard login p"}}`},
		{"newline escaped", Fail(ErrOther, "a\nb"), `{"Err":{"kind":"other","message":"a\nb"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want+"\n" {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}
