package postman

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testKey = "k3yk3yk3yk3yk3yk3yk3yk3yk3yk3yk3yk3yk3yk3y"

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		method string
		host   string
		header map[string]string
		status int // 0: accepted
	}{
		{"accepted", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: testKey}, 0},
		{"accepted localhost", "GET", "localhost:8477", map[string]string{KeyHeader: testKey}, 0},
		{"accepted ipv6", "GET", "[::1]:8477", map[string]string{KeyHeader: testKey}, 0},
		{"missing key", "GET", "127.0.0.1:8477", nil, 401},
		{"wrong key", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: "nope"}, 401},
		{"wrong key same length", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: strings.Repeat("x", len(testKey))}, 401},
		{"key with a prefix", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: testKey + "x"}, 401},
		{"origin", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: testKey, "Origin": "https://evil.example"}, 403},
		{"origin null", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: testKey, "Origin": "null"}, 403},
		{"sec-fetch-site cross-site", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: testKey, "Sec-Fetch-Site": "cross-site"}, 403},
		{"sec-fetch-site none", "GET", "127.0.0.1:8477", map[string]string{KeyHeader: testKey, "Sec-Fetch-Site": "none"}, 0},
		{"host evil.example", "GET", "evil.example", map[string]string{KeyHeader: testKey}, 403},
		{"host evil.example with port", "GET", "evil.example:8477", map[string]string{KeyHeader: testKey}, 403},
		{"host 127.0.0.1.evil.example", "GET", "127.0.0.1.evil.example:8477", map[string]string{KeyHeader: testKey}, 403},
		{"host lan address", "GET", "192.168.1.10:8477", map[string]string{KeyHeader: testKey}, 403},
		{"host empty", "GET", "", map[string]string{KeyHeader: testKey}, 403},
		{"post", "POST", "127.0.0.1:8477", map[string]string{KeyHeader: testKey}, 405},
		{"head", "HEAD", "127.0.0.1:8477", map[string]string{KeyHeader: testKey}, 405},
		{"options preflight", "OPTIONS", "127.0.0.1:8477", map[string]string{"Origin": "https://evil.example"}, 403},
		{"post without key", "POST", "127.0.0.1:8477", nil, 405},
	}
	var golden bytes.Buffer
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "/token/api", nil)
			r.Host = c.host
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			ref := Check(r, testKey)
			got := 0
			if ref != nil {
				got = ref.Status
				b, _ := json.Marshal(ref.ErrorResponse)
				fmt.Fprintf(&golden, "%s: %d %s\n", c.name, ref.Status, b)
				if strings.Contains(string(b), testKey) {
					t.Errorf("refusal quotes the key: %s", b)
				}
			} else {
				fmt.Fprintf(&golden, "%s: accepted\n", c.name)
			}
			if got != c.status {
				t.Errorf("got status %d, want %d", got, c.status)
			}
		})
	}
	compareGolden(t, "refusals.golden", golden.Bytes())
}

// compareGolden compares got with testdata/name, or rewrites it with -update.
func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestKeyEqual(t *testing.T) {
	cases := []struct {
		got, want string
		eq        bool
	}{
		{testKey, testKey, true},
		{"", testKey, false},
		{testKey[:10], testKey, false},
		{"", "", false}, // an empty key never matches: serve always has one
		{strings.ToUpper(testKey), testKey, false},
	}
	for _, c := range cases {
		if got := KeyEqual(c.got, c.want); got != c.eq {
			t.Errorf("KeyEqual(%q, %q) = %v, want %v", c.got, c.want, got, c.eq)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1":              true,
		"127.0.0.1:1":            true,
		"127.1.2.3:80":           true,
		"localhost":              true,
		"LOCALHOST:9":            true,
		"[::1]:8080":             true,
		"[::1]":                  true,
		"::1":                    true,
		"":                       false,
		"evil.example":           false,
		"localhost.evil.example": false,
		"0.0.0.0:80":             false,
		"10.0.0.1:80":            false,
		"[::]:80":                false,
		"127.0.0.1:80:90":        false,
		"[fe80::1%lo]:1":         false,
	}
	for host, want := range cases {
		if got := LoopbackHost(host); got != want {
			t.Errorf("LoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	cases := []struct {
		addr, want string // want "": refused
	}{
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"127.0.0.1:8477", "127.0.0.1:8477"},
		{"localhost:8477", "127.0.0.1:8477"},
		{"[::1]:0", "[::1]:0"},
		{":8477", ""},
		{"0.0.0.0:8477", ""},
		{"[::]:8477", ""},
		{"192.168.1.10:8477", ""},
		{"example.com:80", ""},
		{"127.0.0.1", ""},
	}
	for _, c := range cases {
		got, err := CheckAddr(c.addr)
		if c.want == "" {
			if err == nil {
				t.Errorf("CheckAddr(%q) = %q, want an error", c.addr, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CheckAddr(%q) = %q, %v; want %q", c.addr, got, err, c.want)
		}
	}
}

func TestProfileFromPath(t *testing.T) {
	cases := []struct {
		path, name string
		ok         bool
	}{
		{"/token/api", "api", true},
		{"/token/my.profile-1", "my.profile-1", true},
		{"/token/with space", "with space", true},
		{"/token/", "", false},
		{"/token", "", false},
		{"/token/a/b", "", false},
		{"/", "", false},
		{"/tokens/api", "", false},
	}
	for _, c := range cases {
		name, ok := ProfileFromPath(c.path)
		if name != c.name || ok != c.ok {
			t.Errorf("ProfileFromPath(%q) = %q, %v; want %q, %v", c.path, name, ok, c.name, c.ok)
		}
	}
}

// FuzzCheck: whatever the request, Check accepts it only when the key is
// right, the Host is loopback, the method is GET and no browser sent it.
func FuzzCheck(f *testing.F) {
	f.Add("GET", "127.0.0.1:1", "", "", testKey)
	f.Add("GET", "evil.example", "", "", testKey)
	f.Add("POST", "localhost", "https://a.example", "cross-site", "x")
	f.Fuzz(func(t *testing.T, method, host, origin, site, key string) {
		r := &http.Request{Method: method, Host: host, Header: http.Header{}}
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", site)
		r.Header.Set(KeyHeader, key)
		ref := Check(r, testKey)
		ok := method == "GET" && LoopbackHost(host) && r.Header.Get("Origin") == "" &&
			(r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "none") &&
			r.Header.Get(KeyHeader) == testKey
		if (ref == nil) != ok {
			t.Fatalf("Check(%q %q origin=%q site=%q key=%q) accepted=%v, want %v", method, host, origin, site, key, ref == nil, ok)
		}
	})
}
