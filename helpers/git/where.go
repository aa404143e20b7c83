package git

import (
	"fmt"

	"github.com/lanyardhq/lanyard/internal/desktop"
)

// remoteLoginHint is the line added to "run: lanyard login P" when git
// runs where no browser reaches (an SSH session or a container, without
// $BROWSER): the login can run on a terminal here (device code or paste),
// or the tokens can come from the person's own machine through a
// forwarded agent. "" elsewhere.
func remoteLoginHint(d desktop.Decision, profile string) string {
	if d.CanOpen() {
		return ""
	}
	var where string
	switch d.Place {
	case desktop.SSH:
		where = "this is an SSH session"
	case desktop.Container:
		where = "this is a container"
	default:
		return ""
	}
	return fmt.Sprintf("%s: log in on its terminal with lanyard login %s (it shows a code to enter on any device), or run lanyard agent forward --profiles %s on your own machine and point LANYARD_AGENT_SOCK here (docs/agent.md)", where, profile, profile)
}
