package terraform

import (
	"errors"
	"testing"
)

func TestHostURL(t *testing.T) {
	tests := []struct {
		host, want string
		bad        bool
	}{
		{host: "app.terraform.io", want: "https://app.terraform.io/"},
		{host: "127.0.0.1:8443", want: "https://127.0.0.1:8443/"},
		{host: "registry.example.com:443", want: "https://registry.example.com:443/"},
		{host: "xn--bcher-kva.example", want: "https://xn--bcher-kva.example/"},
		{host: "[::1]:8443", want: "https://[::1]:8443/"},
		{host: "", bad: true},
		{host: "evil.example/path", bad: true},
		{host: "user@host.example", bad: true},
		{host: "host.example?x", bad: true},
		{host: "host.example#x", bad: true},
		{host: "host example", bad: true},
		{host: "host.example\n", bad: true},
		{host: ":8443", bad: true},
		{host: "host.example:port", bad: true},
		{host: "%41.example", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, err := HostURL(tt.host)
			if tt.bad {
				if err == nil || !errors.Is(err, ErrBadHost) {
					t.Fatalf("got %q, %v; want ErrBadHost", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFormatToken(t *testing.T) {
	if got := string(FormatToken(`a"b<`)); got != `{"token":"a\"b\u003c"}`+"\n" {
		t.Errorf("got %s", got)
	}
}
