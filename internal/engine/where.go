package engine

import (
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/desktop"
	"github.com/lanyardhq/lanyard/internal/discovery"
)

// deviceInstead decides whether a browser login should run as a device
// login: the profile uses the authorization code grant, lanyard runs where
// a browser cannot reach its loopback listener (SSH, a container; no
// $BROWSER set), the person did not ask for the printed URL (--no-browser,
// which keeps the listener and the paste), and the provider's metadata
// offers a device authorization endpoint. Then the person opens the
// verification URL on any device, where a loopback redirect could never
// come back. It returns the reason to show, or "".
func deviceInstead(p *config.Profile, m *discovery.Metadata, d desktop.Decision, noBrowser bool) string {
	if p.Grant != config.GrantAuthorizationCode || noBrowser || d.CanOpen() || m == nil || m.DeviceAuthorizationEndpoint == "" {
		return ""
	}
	where := map[desktop.Place]string{
		desktop.SSH: "this is an SSH session", desktop.Container: "this is a container",
	}[d.Place] // a local machine without a display keeps the listener and the paste
	if where == "" {
		return ""
	}
	return fmt.Sprintf("no browser can be opened here (%s), and the provider offers a device login: using it", where)
}
