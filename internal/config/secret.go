package config

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// SecretKeyring is the reference that means "stored with lanyard secret set".
const SecretKeyring = "keyring"

// IsSecretRef reports whether v looks like a secret reference.
func IsSecretRef(v string) bool {
	return v == SecretKeyring || strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "file:") || strings.HasPrefix(v, "cmd:")
}

// CheckSecretRef rejects anything that is not a reference, so a secret
// pasted into the profiles file in clear is refused rather than used.
func CheckSecretRef(v string) error {
	switch {
	case v == SecretKeyring:
		return nil
	case strings.HasPrefix(v, "env:") && len(v) > 4:
		return nil
	case strings.HasPrefix(v, "file:") && len(v) > 5,
		strings.HasPrefix(v, "cmd:") && len(v) > 4:
		return checkRefPath(v)
	}
	return fmt.Errorf("must be a reference, not the secret itself: use \"keyring\" (then: lanyard secret set PROFILE KEY), \"env:NAME\", \"file:PATH\" or \"cmd:COMMAND\"")
}

// SecretSource resolves secret references. Keyring looks a stored secret up
// by profile and key; it is only called for the "keyring" reference.
type SecretSource struct {
	Keyring func(profile, key string) (string, error)
	Getenv  func(string) string
	// Environ is the environment cmd: commands start from (nil:
	// os.Environ); ChildEnv removes the passphrase and Hide from it.
	Environ func() []string
	Hide    []string
}

// Resolve returns the secret that ref (the value of key in profile) points to.
// Errors name the reference, never the secret.
func (s SecretSource) Resolve(ctx context.Context, profile, key, ref string) (string, error) {
	switch {
	case ref == SecretKeyring:
		v, err := s.Keyring(profile, key)
		if err != nil {
			return "", fmt.Errorf("profile %q: %s = \"keyring\" could not be read: %w", profile, key, err)
		}
		return v, nil
	case strings.HasPrefix(ref, "env:"):
		name := ref[4:]
		v := s.Getenv(name)
		if v == "" {
			return "", fmt.Errorf("profile %q: %s = %q but environment variable %s is empty or unset", profile, key, ref, name)
		}
		return v, nil
	case strings.HasPrefix(ref, "file:"):
		path := ref[5:]
		if rest, ok := strings.CutPrefix(path, "~/"); ok {
			path = filepath.Join(s.Getenv("HOME"), rest)
		}
		if !filepath.IsAbs(path) {
			return "", fmt.Errorf("profile %q: %s: %v", profile, key, checkRefPath(ref))
		}
		b, err := readTrusted("secret file", path, 1<<20)
		if err != nil {
			return "", fmt.Errorf("profile %q: %s = %q could not be read: %w", profile, key, ref, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case strings.HasPrefix(ref, "cmd:"):
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		// The command line comes from the profiles file; the secret comes
		// back on stdout and never travels in process arguments.
		c := exec.CommandContext(ctx, "/bin/sh", "-c", ref[4:])
		environ := os.Environ
		if s.Environ != nil {
			environ = s.Environ
		}
		c.Env = ChildEnv(environ(), s.Hide...)
		// Never the caller's working directory (git runs helpers inside
		// the repository): the home directory, else /.
		c.Dir = "/"
		if home := s.Getenv("HOME"); filepath.IsAbs(home) {
			c.Dir = home
		}
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		if err := c.Run(); err != nil {
			return "", fmt.Errorf("profile %q: %s = %q failed: %v: %s", profile, key, ref, err, firstLine(errb.String()))
		}
		v := strings.TrimRight(out.String(), "\r\n")
		if v == "" {
			return "", fmt.Errorf("profile %q: %s = %q printed nothing", profile, key, ref)
		}
		return v, nil
	}
	return "", fmt.Errorf("profile %q: %s: %v", profile, key, CheckSecretRef(ref))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
