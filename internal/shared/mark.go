package shared

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/lanyardhq/lanyard/internal/atomicfile"
)

// marks are this machine's high-water marks of the shared records it has
// seen or written: per profile, the highest version and a digest of that
// version's sealed bytes. The AEAD proves a record was written by a key
// holder for this profile and version, but not that it is the newest: a
// Redis writer without the key can restore an earlier record (DUMP and
// RESTORE, or rewriting the hash), which would spend a rotated-away refresh
// token (the provider's reuse detection then revokes the team's grant),
// bring back a logged-out grant, or serve an older access token. A record
// older than the mark, or at the mark's version with other bytes, is
// refused (TamperError).
//
// The marks live in memory and in one small file per profile under the
// state directory (no secret: a version and a SHA-256 of ciphertext), so a
// new process, or the agent, keeps them. A machine that never saw the newer
// version cannot tell: see docs/security.md.
type marks struct {
	dir string // "" keeps the marks in memory only
	mu  sync.Mutex
	mem map[string]mark
}

type mark struct {
	version int64
	digest  string
}

// newMarks keeps the marks of one table (its name, address and prefix) in
// dir/shared-marks.
func newMarks(stateDir, table, addr, prefix string) *marks {
	m := &marks{mem: map[string]mark{}}
	if stateDir != "" {
		sum := sha256.Sum256([]byte(table + "\x00" + addr + "\x00" + prefix))
		m.dir = filepath.Join(stateDir, "shared-marks", hex.EncodeToString(sum[:8]))
	}
	return m
}

// TamperError means a record opened under the team key but is older than
// one this machine has seen, or differs from it at the same version.
type TamperError struct {
	Profile, Table string
	Version, Seen  int64
	SameVersion    bool
}

func (e *TamperError) Error() string {
	what := fmt.Sprintf("is version %d, older than version %d which this machine has seen", e.Version, e.Seen)
	if e.SameVersion {
		what = fmt.Sprintf("is version %d with other content than this machine has seen", e.Version)
	}
	return fmt.Sprintf("the shared record of profile %s in %s %s: someone with write access to Redis restored or rewrote it (or a failover lost writes); it is not used. Check who writes to Redis, then run: lanyard shared reset %s, and lanyard login %s", e.Profile, e.Table, what, e.Profile, e.Profile)
}

func digest(sealed []byte) string {
	sum := sha256.Sum256(sealed)
	return hex.EncodeToString(sum[:16])
}

// check refuses a record at version with sealed bytes that is older than
// the mark, or other content at the mark's version; otherwise it raises
// the mark.
func (m *marks) check(profile string, version int64, sealed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := digest(sealed)
	cur := m.load(profile)
	switch {
	case version < cur.version:
		return &TamperError{Profile: profile, Version: version, Seen: cur.version}
	case version == cur.version && d != cur.digest:
		return &TamperError{Profile: profile, Version: version, Seen: cur.version, SameVersion: true}
	case version == cur.version:
		return nil
	}
	m.store(profile, mark{version, d})
	return nil
}

// raise records a version this process wrote.
func (m *marks) raise(profile string, version int64, sealed []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if version > m.load(profile).version {
		m.store(profile, mark{version, digest(sealed)})
	}
}

// seen is the mark's version.
func (m *marks) seen(profile string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.load(profile).version
}

// reset lowers the mark to version (shared reset writes a new record).
func (m *marks) reset(profile string, version int64, sealed []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.store(profile, mark{version, digest(sealed)})
}

// load returns the higher of the memory and file marks (another process
// of this user may have raised the file).
func (m *marks) load(profile string) mark {
	cur := m.mem[profile]
	if m.dir == "" {
		return cur
	}
	data, err := os.ReadFile(filepath.Join(m.dir, profile))
	if err != nil {
		return cur
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return cur
	}
	v, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || v < cur.version {
		return cur
	}
	return mark{v, f[1]}
}

func (m *marks) store(profile string, mk mark) {
	m.mem[profile] = mk
	if m.dir == "" {
		return
	}
	// Best effort: a mark that cannot be written only weakens the check.
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return
	}
	_ = atomicfile.Write(filepath.Join(m.dir, profile), fmt.Appendf(nil, "%d %s\n", mk.version, mk.digest), 0o600)
}
