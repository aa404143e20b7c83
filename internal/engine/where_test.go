package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/desktop"
	"github.com/lanyardhq/lanyard/internal/discovery"
)

// Engine tests decide where they run from their getenv alone.
func init() {
	readWhere = func(getenv func(string) string) desktop.Facts {
		return desktop.Facts{
			GOOS: "linux", Browser: getenv("BROWSER"),
			SSH:       getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "",
			Container: getenv("container") != "", WSL: getenv("WSL_DISTRO_NAME") != "",
			Display: getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "",
		}
	}
}

func TestDeviceInstead(t *testing.T) {
	code := &config.Profile{Grant: config.GrantAuthorizationCode}
	withDevice := &discovery.Metadata{DeviceAuthorizationEndpoint: "https://idp.example/device"}
	tests := []struct {
		name      string
		p         *config.Profile
		m         *discovery.Metadata
		d         desktop.Decision
		noBrowser bool
		want      string
	}{
		{"ssh", code, withDevice, desktop.Decision{Place: desktop.SSH}, false, "SSH session"},
		{"container", code, withDevice, desktop.Decision{Place: desktop.Container}, false, "container"},
		{"no display: listener and paste", code, withDevice, desktop.Decision{Place: desktop.Headless}, false, ""},
		{"ssh with BROWSER", code, withDevice, desktop.Decision{Place: desktop.SSH, Open: desktop.BROWSER}, false, ""},
		{"desktop", code, withDevice, desktop.Decision{Place: desktop.Desktop, Open: desktop.OS}, false, ""},
		{"--no-browser keeps listener and paste", code, withDevice, desktop.Decision{Place: desktop.SSH}, true, ""},
		{"no device endpoint: paste flow", code, &discovery.Metadata{}, desktop.Decision{Place: desktop.SSH}, false, ""},
		{"implicit stays", &config.Profile{Grant: config.GrantImplicit}, withDevice, desktop.Decision{Place: desktop.SSH}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := deviceInstead(tc.p, tc.m, tc.d, tc.noBrowser)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLoginSSHUsesDeviceCode: an authorization code profile, logged in from
// an SSH session (SSH_CONNECTION set, no BROWSER), at a provider that
// offers the device grant: lanyard prints the verification URL and code
// instead of a loopback URL that could never come back, and the login
// completes when the code is approved.
func TestLoginSSHUsesDeviceCode(t *testing.T) {
	devicePollSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { devicePollSleep = nil })
	o := startOPForLogin(t)
	h := newILEnv(t, map[string]string{"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22", "DISPLAY": "localhost:10.0"})
	p := opProfile(t, o, config.GrantAuthorizationCode, "")
	done := h.login(t, p, LoginOptions{})
	h.ui.next(t, "lanyard: no browser can be opened here (this is an SSH session)")
	r := h.approveDevice(t, o, done)
	if !o.Valid(r.tok.AccessToken) {
		t.Fatal("the OP does not know the token")
	}
	if strings.Contains(h.ui.String(), "/authorize?") {
		t.Errorf("an authorize URL was printed in an SSH session:\n%s", h.ui.String())
	}
}
