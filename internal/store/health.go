package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/99designs/keyring"
)

// containerFix is the advice for machines without a usable keyring.
const containerFix = "in containers and CI set LANYARD_KEYRING_BACKEND=file and LANYARD_KEYRING_PASSPHRASE (an encrypted file store)"

// collection is the secret-service collection lanyard uses.
const collection = "login"

// Health is what lanyard doctor reports about the keyring.
type Health struct {
	Backend string
	// State is "unlocked", "locked" or "" when the backend has no such state.
	State string
	// Limit says what the backend holds at most, and how lanyard copes.
	Limit string
	// Read is the time one read of a token item took.
	Read time.Duration
}

func (h Health) String() string {
	s := h.Backend
	if h.State != "" {
		s += ", " + h.State
	}
	return fmt.Sprintf("%s; size limit: %s; one read: %.1f ms", s, h.Limit, float64(h.Read.Microseconds())/1000)
}

// Check reports the backend in use, whether it is locked, its size limit,
// and the time of one read of profile's token item (of a missing item when
// profile is ""). Its error says what to do.
func (s *Store) Check(profile string, getenv func(string) string) (Health, error) {
	h := Health{Backend: s.backend, Limit: limit(s.backend, s.sealDir != "")}
	switch s.backend {
	case "secret-service":
		locked, err := secretServiceLocked(collection)
		if err != nil {
			return h, secretServiceError(err, getenv)
		}
		h.State = "unlocked"
		if locked {
			h.State = "locked"
			return h, lockedError()
		}
	case "pass":
		h.State = "locked by gpg (gpg-agent asks for the key's passphrase when it has none cached)"
		if err := passReady(getenv); err != nil {
			return h, err
		}
	case "keyctl":
		h.State = "no lock (the kernel keeps the keys while you are logged in)"
	case "file":
		h.State = "encrypted with LANYARD_KEYRING_PASSPHRASE"
	}
	key := "lanyard-doctor-probe"
	if profile != "" {
		key = tokenKey(profile)
	}
	start := time.Now()
	_, err := s.kr.Get(key)
	h.Read = time.Since(start)
	if err != nil && !errors.Is(err, keyring.ErrKeyNotFound) {
		return h, s.explain(profile, key, "token", err)
	}
	return h, nil
}

// limit describes what backend holds at most; sealed says token states
// are kept beside it, with only a key in it.
func limit(backend string, sealed bool) string {
	how := ""
	if sealed {
		how = "; token states are sealed in files, the keyring holds a 62-byte key per profile"
	}
	switch backend {
	case "wincred":
		return "2,560 bytes per credential" + how
	case "keyctl":
		return keyctlQuota() + how + "; keys are gone after a reboot"
	case "file", "secret-service", "pass", "keychain", "kwallet":
		return "none that matters" + how
	}
	return "unknown" + how
}

func lockedError() error {
	return fmt.Errorf("the secret-service collection %q is locked: unlock it by logging in to the desktop session (or with seahorse); in a session without a desktop: printf %%s PASSWORD | gnome-keyring-daemon --unlock; %s", collection, containerFix)
}

// secretServiceError explains a failure to reach the secret service.
func secretServiceError(err error, getenv func(string) string) error {
	if getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return fmt.Errorf("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset), so no secret service: run lanyard inside your desktop session, or start one with dbus-run-session and gnome-keyring-daemon --unlock; %s", containerFix)
	}
	return fmt.Errorf("no secret service on the D-Bus session bus (%v): install and start gnome-keyring or KWallet (Debian: apt install gnome-keyring); %s", err, containerFix)
}

// passReady checks that pass has a password store with a gpg key.
func passReady(getenv func(string) string) error {
	if _, err := exec.LookPath("pass"); err != nil {
		return fmt.Errorf("the pass program is not installed (Debian: apt install pass); %s", containerFix)
	}
	dir := getenv("PASSWORD_STORE_DIR")
	if dir == "" {
		dir = filepath.Join(getenv("HOME"), ".password-store")
	}
	ids, err := os.ReadFile(filepath.Join(dir, ".gpg-id"))
	if err != nil || strings.TrimSpace(string(ids)) == "" {
		return fmt.Errorf("pass has no gpg key: the password store %s is not initialised; make a key (gpg --quick-gen-key \"Your Name <you@example.com>\") and run: pass init KEYID; %s", dir, containerFix)
	}
	for _, id := range strings.Fields(string(ids)) {
		if out, err := exec.Command("gpg", "--batch", "--list-secret-keys", id).CombinedOutput(); err != nil {
			return fmt.Errorf("pass encrypts to gpg key %s (%s), but gpg has no secret key for it (%s): import the key or run: pass init KEYID with one you have; %s", id, filepath.Join(dir, ".gpg-id"), firstLine(string(out)), containerFix)
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// openError explains why backend could not be opened. keyring.Open only
// says "Specified keyring backend not available", so look for the cause.
func openError(backend string, err error, getenv func(string) string) error {
	var cause error
	switch backend {
	case "secret-service":
		_, serr := secretServiceLocked(collection)
		if serr == nil {
			serr = err
		}
		cause = secretServiceError(serr, getenv)
	case "keyctl":
		if kerr := keyctlProbe(); kerr != nil {
			cause = keyctlBlocked(kerr)
		}
	case "pass":
		cause = passReady(getenv)
	}
	if cause == nil && backend != "" && !slices.Contains(keyring.AvailableBackends(), backends[backend]) {
		cause = fmt.Errorf("this lanyard binary has no %s backend on %s (it has: %s); pick one of those, e.g. LANYARD_KEYRING_BACKEND=file", backend, runtime.GOOS, available())
		if backend == "keychain" && runtime.GOOS == "darwin" {
			cause = fmt.Errorf("%w; it was built without cgo, and the Keychain backend needs cgo: build on the Mac with CGO_ENABLED=1 (make build does)", cause)
		}
	}
	if cause != nil {
		return fmt.Errorf("could not open the %s keyring: %w", backend, cause)
	}
	return fmt.Errorf("could not open keyring (backend %q): %w; %s", orAuto(backend), err, containerFix)
}

// available names the backends compiled into this binary.
func available() string {
	var names []string
	for name, b := range backends {
		if slices.Contains(keyring.AvailableBackends(), b) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// keyctlBlocked explains keyctl failing with kerr (EPERM or ENOSYS from a
// seccomp filter).
func keyctlBlocked(kerr error) error {
	return fmt.Errorf("the kernel refuses keyctl here (%v), as a container's seccomp profile does (Docker's default blocks it); %s", kerr, containerFix)
}

// hint adds what to do to a backend error on read or write.
func (s *Store) hint(err error) error {
	msg := err.Error()
	switch {
	case s.backend == "secret-service" && strings.Contains(msg, "locked"):
		return fmt.Errorf("%w; %v", err, lockedError())
	case s.backend == "pass":
		if perr := passReady(os.Getenv); perr != nil {
			return fmt.Errorf("%w; %v", err, perr)
		}
	case s.backend == "keyctl" && strings.Contains(msg, "quota"):
		return fmt.Errorf("%w; the kernel's per-user key quota is full (%s): remove other keys (keyctl show @u) or raise kernel.keys.maxbytes", err, keyctlQuota())
	}
	return err
}
