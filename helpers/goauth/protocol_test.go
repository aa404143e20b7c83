package goauth

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want Refused
		err  error
	}{
		{name: "empty (first call)", in: "", want: Refused{}},
		{name: "go example", in: "HTTP/1.1 401 Unauthorized\nContent-Length: 19\nContent-Type: text/plain; charset=utf-8\nWww-Authenticate: Bearer realm=\"x\", Basic\n\n",
			want: Refused{Proto: "HTTP/1.1", Status: 401, Header: [][2]string{{"Content-Length", "19"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Www-Authenticate", `Bearer realm="x", Basic`}}}},
		{name: "crlf and stop at blank", in: "HTTP/2.0 404 Not Found\r\nX: 1\r\n\r\nY: 2\n", want: Refused{Proto: "HTTP/2.0", Status: 404, Header: [][2]string{{"X", "1"}}}},
		{name: "no reason phrase", in: "HTTP/1.1 403\n", want: Refused{Proto: "HTTP/1.1", Status: 403}},
		{name: "junk header skipped", in: "HTTP/1.1 401 U\nnocolon\n: empty\nA:b\n", want: Refused{Proto: "HTTP/1.1", Status: 401, Header: [][2]string{{"A", "b"}}}},
		{name: "not a status line", in: "hello\n", err: ErrNotResponse},
		{name: "bad code", in: "HTTP/1.1 abc x\n", err: ErrNotResponse},
		{name: "code out of range", in: "HTTP/1.1 42 x\n", err: ErrNotResponse},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseRefused([]byte(c.in))
			if !errors.Is(err, c.err) {
				t.Fatalf("error: got %v, want %v", err, c.err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	r, _ := ParseRefused([]byte("HTTP/1.1 401 U\nWWW-Authenticate: Bearer\n"))
	if got := r.Get("www-authenticate"); got != "Bearer" {
		t.Errorf("Get: got %q, want Bearer", got)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []CredentialSet
		want string
		err  string
	}{
		{name: "none", sets: nil, want: ""},
		{name: "bearer", sets: []CredentialSet{Bearer("https://proxy.example.com/private/", "tok")}, want: "https://proxy.example.com/private/\n\nAuthorization: Bearer tok\n\n"},
		{name: "two", sets: []CredentialSet{Bearer("https://a.example.com/", "x"), {Prefix: "https://b.example.com:8443/p/", Header: [][2]string{{"X-Key", "v"}, {"Authorization", "Basic Zm9v"}}}},
			want: "https://a.example.com/\n\nAuthorization: Bearer x\n\nhttps://b.example.com:8443/p/\n\nX-Key: v\nAuthorization: Basic Zm9v\n\n"},
		{name: "http prefix", sets: []CredentialSet{Bearer("http://a.example.com/", "x")}, err: "not an https:// URL"},
		{name: "bare scheme", sets: []CredentialSet{Bearer("https://", "x")}, err: "not an https:// URL"},
		{name: "newline in prefix", sets: []CredentialSet{Bearer("https://a.example.com/\nhttps://evil/", "x")}, err: "not an https:// URL"},
		{name: "newline in token", sets: []CredentialSet{Bearer("https://a.example.com/", "x\n\nhttps://evil/")}, err: "not a valid header line"},
		{name: "empty token", sets: []CredentialSet{{Prefix: "https://a.example.com/", Header: [][2]string{{"Authorization", ""}}}}, err: "not a valid header line"},
		{name: "bad name", sets: []CredentialSet{{Prefix: "https://a.example.com/", Header: [][2]string{{"A B", "x"}}}}, err: "not a valid header line"},
		{name: "no header", sets: []CredentialSet{{Prefix: "https://a.example.com/"}}, err: "has no header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Format(c.sets)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error: got %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || string(got) != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
