package testbin

import (
	"os"
	"os/user"
	"strconv"
	"testing"
)

// OtherUser is the unprivileged user of .ci/install.d/20-keyrings.sh
// ($LANYARD_E2E_USER, default lanyard-e2e), for tests that run a command
// as another uid: As is the setpriv prefix that does it.
type OtherUser struct {
	Name     string
	UID, GID int
	As       []string
}

// NeedOtherUser returns the other user. The test must run as root; it
// skips otherwise, or fails under LANYARD_E2E_REQUIRED. why says what the
// test does as that user, for the message.
func NeedOtherUser(tb testing.TB, why string) OtherUser {
	tb.Helper()
	NeedTool(tb, "setpriv")
	name := os.Getenv("LANYARD_E2E_USER")
	if name == "" {
		name = "lanyard-e2e"
	}
	required := os.Getenv("LANYARD_E2E_REQUIRED") != ""
	u, err := user.Lookup(name)
	switch {
	case os.Geteuid() != 0 && required:
		tb.Fatalf("this test must run as root: it %s as the user %s", why, name)
	case os.Geteuid() != 0:
		tb.Skipf("run as root: this test %s as another user (%s)", why, name)
	case err != nil && required:
		tb.Fatalf("user %s: %v; .ci/install.d/20-keyrings.sh creates it", name, err)
	case err != nil:
		tb.Skipf("user %s: %v; .ci/install.d/20-keyrings.sh creates it", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return OtherUser{Name: name, UID: uid, GID: gid,
		As: []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}}
}
