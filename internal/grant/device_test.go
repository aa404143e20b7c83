package grant_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/grant"
)

// sleeps records the waits the device flow asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

const deviceAuthOK = `{"device_code":"dc1","user_code":"WDJB-MJHT","verification_uri":"https://as.example/device","verification_uri_complete":"https://as.example/device?user_code=WDJB-MJHT","expires_in":600,"interval":2}`

func deviceServer(t *testing.T, polls ...string) *tokenServer {
	return newTokenServer(t, func(n int, p url.Values) (int, string) {
		if n == 1 {
			return 200, deviceAuthOK
		}
		if n-2 < len(polls) {
			body := polls[n-2]
			if strings.Contains(body, `"error"`) {
				return 400, body
			}
			return 200, body
		}
		return 500, `{"error":"server_error"}`
	})
}

func TestDeviceCodePolling(t *testing.T) {
	ts := deviceServer(t,
		`{"error":"authorization_pending"}`,
		`{"error":"slow_down"}`,
		`{"error":"authorization_pending"}`,
		`{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt"}`,
	)
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL + "/token", ClientID: "cid", ClientSecret: "sec", ClientAuth: "basic", ScopeSeparator: " "}
	var s sleeps
	ui := newUIWatch()
	tok, err := grant.DeviceCode(ctxT(t), c, grant.DeviceRequest{DeviceAuthURL: ts.URL + "/device", Scopes: []string{"openid", "offline_access"}, Params: map[string]string{"audience": "api"}, Sleep: s.sleep}, grant.Interaction{UI: ui})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at" || tok.RefreshToken != "rt" {
		t.Fatalf("token %+v", tok)
	}
	// interval 2s, then +5s after slow_down (RFC 8628 §3.5).
	want := []time.Duration{2 * time.Second, 2 * time.Second, 7 * time.Second, 7 * time.Second}
	if len(s.d) != len(want) {
		t.Fatalf("slept %v, want %v", s.d, want)
	}
	for i := range want {
		if s.d[i] != want[i] {
			t.Fatalf("slept %v, want %v", s.d, want)
		}
	}
	reqs := ts.requests()
	if d := reqs[0]; d.path != "/device" || !d.basic || d.params.Get("scope") != "openid offline_access" || d.params.Get("audience") != "api" || d.params.Has("client_secret") {
		t.Fatalf("device authorization request %+v", d)
	}
	for _, r := range reqs[1:] {
		if r.path != "/token" || r.params.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || r.params.Get("device_code") != "dc1" || !r.basic {
			t.Fatalf("poll %+v", r)
		}
	}
	ui.next(t, "https://as.example/device")
	ui.next(t, "WDJB-MJHT")
	ui.next(t, "lanyard: or open, with the code filled in: https://as.example/device?user_code=WDJB-MJHT")
}

func TestDeviceCodeQR(t *testing.T) {
	ts := deviceServer(t, `{"access_token":"at","expires_in":300}`)
	c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL + "/token", ClientID: "cid", ClientAuth: "none"}
	var s sleeps
	ui := newUIWatch()
	if _, err := grant.DeviceCode(ctxT(t), c, grant.DeviceRequest{DeviceAuthURL: ts.URL + "/device", Sleep: s.sleep}, grant.Interaction{UI: ui, UITerminal: true}); err != nil {
		t.Fatal(err)
	}
	ui.next(t, "lanyard: or scan this QR code")
	if l := ui.next(t, "█"); len(l) < 20 {
		t.Fatalf("QR line %q", l)
	}
	if p := ts.requests()[0].params; p.Get("client_id") != "cid" {
		t.Fatalf("public client's device request lacks client_id: %v", p)
	}
}

func TestDeviceCodeFailures(t *testing.T) {
	cases := []struct {
		name string
		poll string
		want string
	}{
		{"expired", `{"error":"expired_token"}`, "the device code expired before the login was approved"},
		{"denied", `{"error":"access_denied","error_description":"user said no"}`, "denied at the verification page (user said no)"},
		{"other", `{"error":"invalid_client"}`, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := deviceServer(t, `{"error":"authorization_pending"}`, tc.poll)
			c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL + "/token", ClientID: "cid", ClientAuth: "none"}
			var s sleeps
			_, err := grant.DeviceCode(ctxT(t), c, grant.DeviceRequest{DeviceAuthURL: ts.URL + "/device", Sleep: s.sleep}, grant.Interaction{UI: newUIWatch()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("expired locally", func(t *testing.T) {
		ts := deviceServer(t)
		c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL + "/token", ClientID: "cid", ClientAuth: "none",
			Now: func() time.Time { return time.Now().Add(time.Hour) }}
		var s sleeps
		_, err := grant.DeviceCode(ctxT(t), c, grant.DeviceRequest{DeviceAuthURL: ts.URL + "/device", Sleep: s.sleep}, grant.Interaction{UI: newUIWatch()})
		var de *grant.DeviceError
		if !errors.As(err, &de) || de.Code != "expired_token" || len(ts.requests()) != 1 {
			t.Fatalf("got %v after %d requests", err, len(ts.requests()))
		}
	})
	t.Run("device endpoint refuses", func(t *testing.T) {
		ts := newTokenServer(t, func(int, url.Values) (int, string) {
			return 401, `{"error":"invalid_client","error_description":"unknown client"}`
		})
		c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL + "/token", ClientID: "cid", ClientAuth: "none"}
		_, err := grant.DeviceCode(ctxT(t), c, grant.DeviceRequest{DeviceAuthURL: ts.URL + "/device"}, grant.Interaction{})
		te, ok := grant.AsTokenError(err)
		if !ok || te.Code != "invalid_client" || te.Status != 401 {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		ts := deviceServer(t)
		c := &grant.Client{HTTP: ts.Client(), TokenURL: ts.URL + "/token", ClientID: "cid", ClientAuth: "none"}
		block := func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() }
		_, err := grant.DeviceCode(ctxT(t), c, grant.DeviceRequest{DeviceAuthURL: ts.URL + "/device", Sleep: block}, grant.Interaction{Timeout: 10 * time.Millisecond})
		if !errors.Is(err, grant.ErrLoginTimeout) {
			t.Fatalf("got %v", err)
		}
	})
}
