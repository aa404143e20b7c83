package shared

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The lock value and a record's "by" field are written by lanyard, but a
// Redis writer without the key can put anything there, and both reach a
// terminal (shared status, the lock-wait error). They are shown only in
// the format lanyard writes; anything else is described, not printed.

// hostPattern is a host name as lanyard writes it: what os.Hostname gives
// on every system we know, and nothing a terminal interprets.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

// byPattern is a record's "by": "HOST pid N".
var byPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252} pid [0-9]{1,10}$`)

// ownerHost is the host name this process writes, "unknown-host" when the
// system's does not fit hostPattern (readers would refuse it).
func ownerHost(h string) string {
	if !hostPattern.MatchString(h) {
		return "unknown-host"
	}
	return h
}

// parseOwner reads a lock value "NONCE HOST PID MILLIS" (see tryLock).
func parseOwner(v string) (host string, pid int, since time.Time, ok bool) {
	f := strings.Split(v, " ")
	if len(f) != 4 || len(f[0]) == 0 || strings.Trim(f[0], "0123456789abcdef") != "" || !hostPattern.MatchString(f[1]) {
		return "", 0, time.Time{}, false
	}
	pid, err := strconv.Atoi(f[2])
	if err != nil || pid <= 0 {
		return "", 0, time.Time{}, false
	}
	ms, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || ms < 0 {
		return "", 0, time.Time{}, false
	}
	return f[1], pid, time.UnixMilli(ms), true
}

// validBy reports whether a record's "by" has the form lanyard writes.
func validBy(by string) bool { return byPattern.MatchString(by) }
