package git

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseRequest(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	tests := []struct {
		name string
		in   string
		want Request
	}{
		{"empty", "", Request{}},
		{"just a blank line", "\n", Request{}},
		{"git 2.39 get", "protocol=https\nhost=git.example.com\n", Request{Protocol: "https", Host: "git.example.com"}},
		{"blank line ends the request", "protocol=https\nhost=a.example\n\nhost=b.example\n", Request{Protocol: "https", Host: "a.example"}},
		{"crlf", "protocol=https\r\nhost=git.example.com:8443\r\npath=acme/app.git\r\n\r\n", Request{Protocol: "https", Host: "git.example.com:8443", Path: "acme/app.git"}},
		{"no final newline", "protocol=https\nhost=h", Request{Protocol: "https", Host: "h"}},
		{"erase from git 2.46", "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\nusername=oauth2\npassword=tok\npassword_expiry_utc=1700000000\noauth_refresh_token=rt\nwwwauth[]=Basic realm=\"x\"\nwwwauth[]=Bearer error=\"invalid_token\"\n",
			Request{Protocol: "https", Host: "h", Username: "oauth2", Password: "tok", WWWAuth: []string{`Basic realm="x"`, `Bearer error="invalid_token"`}, Capabilities: []string{"authtype", "state"}}},
		{"unknown keys and junk lines", "authtype=Bearer\ncredential=abc\nephemeral=1\nstate[]=a:b\ncontinue=1\nfuture_key=v\nno equals sign here\n=empty key\nprotocol=https\nhost=h\n", Request{Protocol: "https", Host: "h"}},
		{"value keeps '=' and spaces", "protocol=https\nhost=h\npassword= a=b= \n", Request{Protocol: "https", Host: "h", Password: " a=b= "}},
		{"later value wins", "host=a\nhost=b\n", Request{Host: "b"}},
		{"empty array value clears", "wwwauth[]=a\nwwwauth[]=\nwwwauth[]=b\n", Request{WWWAuth: []string{"b"}}},
		{"url attribute", "url=https://bob:pw@git.example.com:8443/acme/app.git\n", Request{Protocol: "https", Host: "git.example.com:8443", Path: "acme/app.git", Username: "bob", Password: "pw"}},
		{"url resets earlier parts", "path=old\nusername=u\nurl=https://h\n", Request{Protocol: "https", Host: "h"}},
		{"bad url", "url=%zz\nhost=h\n", Request{Host: "h"}},
		{"huge value", "protocol=https\nhost=h\nwwwauth[]=" + huge + "\n", Request{Protocol: "https", Host: "h", WWWAuth: []string{huge}}},
		{"lone CR is part of a value", "host=h\rx\n", Request{Host: "h\rx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseRequest([]byte(tt.in))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+.200v, want %+.200v", got, tt.want)
			}
		})
	}
}

func TestRequestURL(t *testing.T) {
	tests := []struct {
		r    Request
		want string
	}{
		{Request{Protocol: "https", Host: "h"}, "https://h"},
		{Request{Protocol: "https", Host: "h:8443", Path: "acme/app.git"}, "https://h:8443/acme/app.git"},
		{Request{Protocol: "https", Host: "h", Path: "a b/c?d.git"}, "https://h/a%20b/c%3Fd.git"},
		{Request{Host: "h"}, ""},
		{Request{Protocol: "https"}, ""},
	}
	for _, tt := range tests {
		if got := tt.r.URL(); got != tt.want {
			t.Errorf("%+v.URL() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestResponseFormat(t *testing.T) {
	exp := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		r       Response
		want    string
		wantErr bool
	}{
		{"with expiry", Response{Username: "oauth2", Password: "tok", Expiry: exp}, "username=oauth2\npassword=tok\npassword_expiry_utc=4102444800\n", false},
		{"without expiry", Response{Username: "x-access-token", Password: "tok"}, "username=x-access-token\npassword=tok\n", false},
		{"expiry in another zone", Response{Username: "u", Password: "p", Expiry: exp.In(time.FixedZone("X", 3600))}, "username=u\npassword=p\npassword_expiry_utc=4102444800\n", false},
		{"newline in token", Response{Username: "u", Password: "a\nhost=evil"}, "", true},
		{"NUL in username", Response{Username: "u\x00", Password: "p"}, "", true},
		{"CR in token", Response{Username: "u", Password: "p\r"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.Format()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// encode writes r back in git's form (what git itself would send).
func encode(r Request) []byte {
	var b bytes.Buffer
	for _, kv := range [][2]string{{"protocol", r.Protocol}, {"host", r.Host}, {"path", r.Path}, {"username", r.Username}, {"password", r.Password}} {
		if kv[1] != "" {
			b.WriteString(kv[0] + "=" + kv[1] + "\n")
		}
	}
	for _, v := range r.WWWAuth {
		b.WriteString("wwwauth[]=" + v + "\n")
	}
	for _, v := range r.Capabilities {
		b.WriteString("capability[]=" + v + "\n")
	}
	return b.Bytes()
}

// FuzzParse is git-credential-oauth's FuzzParse for our parser: any input
// parses without panic, no value carries a line break, and what was parsed
// survives being written back and parsed again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"protocol=https\nhost=example.com\n",
		"protocol=https\r\nhost=example.com:8443\r\npath=a/b.git\r\n\r\n",
		"capability[]=authtype\nwwwauth[]=Basic realm=\"x\"\nprotocol=https\nhost=h\nusername=u\npassword=p\npassword_expiry_utc=1\noauth_refresh_token=r\n",
		"url=https://u:p@h:1/x\n",
		"=\n\n=",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := ParseRequest(data)
		fields := append([]string{r.Protocol, r.Host, r.Path, r.Username, r.Password}, append(r.WWWAuth, r.Capabilities...)...)
		for _, v := range fields {
			if strings.Contains(v, "\n") {
				t.Fatalf("value %q holds a newline", v)
			}
		}
		_ = r.URL()
		for _, v := range fields {
			if strings.HasSuffix(v, "\r") || !utf8.ValidString(v) {
				return // a trailing CR is a CRLF line end when written back
			}
		}
		if again := ParseRequest(encode(r)); !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip: got %+v, want %+v", again, r)
		}
	})
}
