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
		{"unknown keys and junk lines", "ephemeral=1\ncontinue=1\nfuture_key=v\nno equals sign here\n=empty key\nprotocol=https\nhost=h\n", Request{Protocol: "https", Host: "h"}},
		{"erase of a Bearer credential", "capability[]=authtype\ncapability[]=state\nauthtype=Bearer\ncredential=abc\nephemeral=1\nprotocol=https\nhost=h\nstate[]=other:x\nstate[]=lanyard:profile=p\n",
			Request{Protocol: "https", Host: "h", AuthType: "Bearer", Credential: "abc", Capabilities: []string{"authtype", "state"}, State: []string{"other:x", "lanyard:profile=p"}}},
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
		{Request{Protocol: "https", Host: "github.com", Username: "work", Password: "never", Path: "acme/app.git"}, "https://work@github.com/acme/app.git"},
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
		{"newline in Bearer token", Response{Bearer: "a\nauthtype=Basic"}, "", true},
		{"newline in state", Response{Username: "u", Password: "p", State: "lanyard:x\nhost=evil"}, "", true},
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
	for _, kv := range [][2]string{{"protocol", r.Protocol}, {"host", r.Host}, {"path", r.Path}, {"username", r.Username}, {"password", r.Password}, {"authtype", r.AuthType}, {"credential", r.Credential}} {
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
	for _, v := range r.State {
		b.WriteString("state[]=" + v + "\n")
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
		"capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\nwwwauth[]=Bearer realm=\"a,b\", error=\"invalid_token\"\n",
		"capability[]=authtype\nauthtype=Bearer\ncredential=c\nstate[]=lanyard:profile=a%20b\nstate[]=\nstate[]=x:y\n",
		"=\n\n=",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := ParseRequest(data)
		fields := append([]string{r.Protocol, r.Host, r.Path, r.Username, r.Password, r.AuthType, r.Credential}, append(append(r.WWWAuth, r.Capabilities...), r.State...)...)
		for _, v := range fields {
			if strings.Contains(v, "\n") {
				t.Fatalf("value %q holds a newline", v)
			}
		}
		_ = r.URL()
		// The decisions never panic, and an answer never carries a line
		// git did not ask for.
		_ = Schemes(r.WWWAuth)
		_ = RefusedHint(r.Erase(), r)
		for _, mode := range []string{"auto", "bearer", "basic"} {
			a := Answer(r, "p", "", mode, "tok", time.Time{})
			if (a.Bearer != "") && !r.Has("authtype") || (a.State != "") != r.Has("state") {
				t.Fatalf("git_auth %s: answer %+v for capabilities %q", mode, a, r.Capabilities)
			}
		}
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

func TestSchemes(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{`Basic realm="git"`}, []string{"basic"}},
		{[]string{`Bearer`}, []string{"bearer"}},
		{[]string{`bearer realm="x", error="invalid_token", error_description="a, b"`}, []string{"bearer"}},
		{[]string{`Basic realm="a, Bearer b", Bearer realm="c"`}, []string{"basic", "bearer"}},
		{[]string{`Basic realm="x\", Bearer"`}, []string{"basic"}},
		{[]string{`Negotiate abc==, Basic realm=x`}, []string{"negotiate", "basic"}},
		{[]string{`Negotiate`, `NTLM`, `Basic realm="Git"`}, []string{"negotiate", "ntlm", "basic"}},
		{[]string{`  ,, Bearer  ,`}, []string{"bearer"}},
		{[]string{`realm="no scheme"`}, nil},
		{[]string{`Bearer realm="unterminated`}, []string{"bearer"}},
	}
	for _, tt := range tests {
		if got := Schemes(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Schemes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUseBearer(t *testing.T) {
	newGit := []string{"authtype", "state"}
	bearerOnly := []string{`Bearer realm="git"`}
	basicOnly := []string{`Basic realm="git"`}
	both := []string{`Basic realm="git"`, `Bearer realm="git"`}
	tests := []struct {
		name    string
		gitAuth string
		r       Request
		want    bool
	}{
		{"auto, server offers Bearer only", "auto", Request{Capabilities: newGit, WWWAuth: bearerOnly}, true},
		{"auto, server offers Basic only", "auto", Request{Capabilities: newGit, WWWAuth: basicOnly}, false},
		{"auto, server offers both", "auto", Request{Capabilities: newGit, WWWAuth: both}, false},
		{"auto, server says nothing", "auto", Request{Capabilities: newGit}, false},
		{"empty mode is auto", "", Request{Capabilities: newGit, WWWAuth: bearerOnly}, true},
		{"bearer", "bearer", Request{Capabilities: newGit, WWWAuth: basicOnly}, true},
		{"basic", "basic", Request{Capabilities: newGit, WWWAuth: bearerOnly}, false},
		{"bearer, git before 2.46", "bearer", Request{WWWAuth: bearerOnly}, false},
		{"auto, git before 2.46", "auto", Request{WWWAuth: bearerOnly}, false},
		{"state alone is not authtype", "bearer", Request{Capabilities: []string{"state"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UseBearer(tt.gitAuth, tt.r); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErase(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Erase
	}{
		{"git 2.39 Basic", "protocol=https\nhost=h\nusername=oauth2\npassword=tok\n", Erase{Secret: "tok"}},
		{"nothing refused", "protocol=https\nhost=h\n", Erase{}},
		{"Bearer with lanyard's state", "capability[]=authtype\ncapability[]=state\nauthtype=Bearer\ncredential=tok\nprotocol=https\nhost=h\nstate[]=lanyard:profile=a%2Fb\n", Erase{Secret: "tok", Bearer: true, Profile: "a/b", Ours: true}},
		{"Basic with lanyard's state", "capability[]=state\nprotocol=https\nhost=h\nusername=oauth2\npassword=tok\nstate[]=lanyard:profile=p\n", Erase{Secret: "tok", Profile: "p", Ours: true}},
		{"another helper's state", "capability[]=state\nprotocol=https\nhost=h\nusername=bob\npassword=pw\nstate[]=gcm:abc\n", Erase{Secret: "pw"}},
		{"a prefix that is not ours", "capability[]=state\nprotocol=https\nhost=h\npassword=pw\nstate[]=lanyardx:profile=p\nstate[]=lanyard:other\n", Erase{Secret: "pw"}},
		{"credential without authtype is ignored", "protocol=https\nhost=h\ncredential=c\npassword=pw\n", Erase{Secret: "pw"}},
		{"another scheme", "capability[]=authtype\nauthtype=Digest\ncredential=c\nprotocol=https\nhost=h\n", Erase{Secret: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseRequest([]byte(tt.in)).Erase(); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, name := range []string{"p", "a b", "a/b%c", "ünï", "x=y&z"} {
		r := ParseRequest([]byte("state[]=" + StateFor(name) + "\n"))
		if e := r.Erase(); e.Profile != name || !e.Ours {
			t.Errorf("StateFor(%q) came back as %+v", name, e)
		}
	}
}

func TestRefusedHint(t *testing.T) {
	newGit := []string{"authtype", "state"}
	tests := []struct {
		name string
		e    Erase
		r    Request
		want string // substring; "" means no hint
	}{
		{"Bearer refused, Basic asked", Erase{Secret: "t", Bearer: true}, Request{Capabilities: newGit, WWWAuth: []string{`Basic realm="git"`}}, `set git_auth = "basic"`},
		{"Basic refused, Bearer asked, new git", Erase{Secret: "t"}, Request{Capabilities: newGit, WWWAuth: []string{`Bearer realm="git"`}}, `set git_auth = "bearer"`},
		{"Basic refused, Bearer asked, git 2.41", Erase{Secret: "t"}, Request{WWWAuth: []string{`Bearer realm="git"`}}, `use git 2.46 or later, with git_auth = "auto" or "bearer"`},
		{"Basic refused, Basic asked: revoked", Erase{Secret: "t"}, Request{Capabilities: newGit, WWWAuth: []string{`Basic realm="git"`}}, ""},
		{"Bearer refused, Bearer asked: revoked", Erase{Secret: "t", Bearer: true}, Request{Capabilities: newGit, WWWAuth: []string{`Bearer error="invalid_token"`}}, ""},
		{"both offered", Erase{Secret: "t"}, Request{Capabilities: newGit, WWWAuth: []string{`Basic`, `Bearer`}}, ""},
		{"git 2.39 says nothing", Erase{Secret: "t"}, Request{}, `use git 2.46 or later with git_auth = "bearer"`},
		{"new git, server said nothing", Erase{Secret: "t"}, Request{Capabilities: newGit}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RefusedHint(tt.e, tt.r)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	exp := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	get := func(s string) Request { return ParseRequest([]byte(s)) }
	tests := []struct {
		name    string
		r       Request
		user    string
		gitAuth string
		want    string
	}{
		{"git 2.39", get("protocol=https\nhost=h\n"), "", "auto", "username=oauth2\npassword=tok\npassword_expiry_utc=4102444800\n"},
		{"git 2.39, bearer asked for", get("protocol=https\nhost=h\n"), "x-access-token", "bearer", "username=x-access-token\npassword=tok\npassword_expiry_utc=4102444800\n"},
		{"git 2.47, Bearer-only server", get("capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\nwwwauth[]=Bearer realm=\"git\"\n"), "", "auto",
			"capability[]=authtype\ncapability[]=state\nauthtype=Bearer\ncredential=tok\nephemeral=1\npassword_expiry_utc=4102444800\nstate[]=lanyard:profile=my+profile\n"},
		{"git 2.47, Basic-only server", get("capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\nwwwauth[]=Basic realm=\"git\"\n"), "", "auto",
			"capability[]=authtype\ncapability[]=state\nusername=oauth2\npassword=tok\npassword_expiry_utc=4102444800\nstate[]=lanyard:profile=my+profile\n"},
		{"git 2.47, bearer forced", get("capability[]=authtype\nprotocol=https\nhost=h\n"), "", "bearer",
			"capability[]=authtype\nauthtype=Bearer\ncredential=tok\nephemeral=1\npassword_expiry_utc=4102444800\n"},
		{"git 2.47, basic forced", get("capability[]=authtype\nprotocol=https\nhost=h\nwwwauth[]=Bearer\n"), "", "basic",
			"capability[]=authtype\nusername=oauth2\npassword=tok\npassword_expiry_utc=4102444800\n"},
		{"state only", get("capability[]=state\nprotocol=https\nhost=h\n"), "", "bearer",
			"capability[]=state\nusername=oauth2\npassword=tok\npassword_expiry_utc=4102444800\nstate[]=lanyard:profile=my+profile\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Answer(tt.r, "my profile", tt.user, tt.gitAuth, "tok", exp).Format()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Contains(string(got), "oauth_refresh_token") {
				t.Error("the refresh token must stay in lanyard")
			}
		})
	}
}
