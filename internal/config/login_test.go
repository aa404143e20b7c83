package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoginKeys(t *testing.T) {
	base := "[profiles.p]\ngrant = \"authorization_code\"\nauth_url = \"https://a.example/auth\"\ntoken_url = \"https://a.example/token\"\nclient_id = \"c\"\n"
	tests := []struct {
		extra   string
		mode    string
		timeout time.Duration
		err     string
	}{
		{"", ResponseModeQuery, DefaultLoginTimeout, ""},
		{`response_mode = "form_post"`, ResponseModeFormPost, DefaultLoginTimeout, ""},
		{`response_mode = "fragment"`, "", 0, `test.toml:6: profiles.p.response_mode: "fragment" is not valid; use query or form_post`},
		{`login_timeout = "90s"`, ResponseModeQuery, 90 * time.Second, ""},
		{`login_timeout = "soon"`, "", 0, `profiles.p.login_timeout: "soon" is not a positive duration`},
		{`login_timeout = "-1m"`, "", 0, `is not a positive duration`},
	}
	for _, tc := range tests {
		t.Run(tc.extra, func(t *testing.T) {
			f, err := Parse("test.toml", []byte(base+tc.extra+"\n"))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := f.Profiles["p"]
			if p.ResponseMode != tc.mode || p.LoginTimeout != tc.timeout {
				t.Errorf("got %q %s, want %q %s", p.ResponseMode, p.LoginTimeout, tc.mode, tc.timeout)
			}
		})
	}
}
