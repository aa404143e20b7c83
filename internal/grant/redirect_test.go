package grant

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyardhq/lanyard/internal/backchannel"
)

// TestBackChannelFollowsNoRedirect: a token, device or revocation endpoint
// that answers 307/308 must not get its request body (client secret,
// refresh token, password, verifier) or Basic credentials resent to the
// Location, whatever client the caller passed in.
func TestBackChannelFollowsNoRedirect(t *testing.T) {
	var stolen atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":60,"device_code":"d","user_code":"u","verification_uri":"https://v"}`))
	}))
	defer thief.Close()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, thief.URL+"/collect", status)
		}))
		tests := []struct {
			name string
			run  func(ctx context.Context, c *Client) error
		}{
			{"refresh", func(ctx context.Context, c *Client) error { _, err := Refresh(ctx, c, "the-refresh-token"); return err }},
			{"client credentials", func(ctx context.Context, c *Client) error { _, err := ClientCredentials(ctx, c, nil); return err }},
			{"revoke", func(ctx context.Context, c *Client) error {
				return c.Revoke(ctx, redirector.URL+"/revoke", "the-refresh-token", "refresh_token")
			}},
			{"device authorization", func(ctx context.Context, c *Client) error {
				_, err := DeviceCode(ctx, c, DeviceRequest{DeviceAuthURL: redirector.URL + "/device"}, Interaction{})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(http.StatusText(status)+"/"+tt.name, func(t *testing.T) {
				stolen.Store(0)
				// A plain client: the default policy would follow.
				c := &Client{HTTP: &http.Client{}, TokenURL: redirector.URL + "/token", ClientID: "id", ClientSecret: "the-secret", ClientAuth: "basic", Attempts: 1}
				err := tt.run(t.Context(), c)
				var re *backchannel.RedirectError
				if !errors.As(err, &re) {
					t.Fatalf("got %v, want a *backchannel.RedirectError", err)
				}
				if !strings.Contains(err.Error(), thief.URL) {
					t.Errorf("error %q does not name the Location's host %s", err, thief.URL)
				}
				if strings.Contains(err.Error(), "the-secret") || strings.Contains(err.Error(), "the-refresh-token") {
					t.Errorf("error %q leaks a secret", err)
				}
				if n := stolen.Load(); n != 0 {
					t.Errorf("the redirect target got %d requests, want 0", n)
				}
			})
		}
		redirector.Close()
	}
}
