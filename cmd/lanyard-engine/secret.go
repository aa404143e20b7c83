package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// SecretCmd manages secrets referenced as "keyring" in profiles.
type SecretCmd struct {
	Set SecretSetCmd `cmd:"" help:"Store a secret (read from stdin, or asked on the terminal)."`
	Rm  SecretRmCmd  `cmd:"" help:"Remove a stored secret."`
}

// SecretSetCmd stores a secret.
type SecretSetCmd struct {
	Profile string `arg:"" help:"Profile name, or shared.NAME for a [shared.NAME] table." predictor:"profile"`
	Key     string `arg:"" default:"client_secret" help:"Which secret: client_secret, a plugin setting name, or (shared.NAME) key, password, sentinel_password."`
}

// Run reads the secret (never from the command line) and stores it.
func (c *SecretSetCmd) Run(env *Env, cfg *config.File, eng *engine.Engine) error {
	if name, ok := strings.CutPrefix(c.Profile, "shared."); ok {
		// The key and passwords of a [shared.NAME] table.
		if _, err := sharedTable(cfg, name); err != nil {
			return err
		}
	} else if _, err := cfg.Profile(c.Profile); err != nil {
		return err
	}
	var v string
	var err error
	if f, ok := env.Stdin.(*os.File); ok && tty.IsTerminal(f) {
		fmt.Fprintf(env.Stderr, "%s for %s (one line; pipe multi-line secrets such as PEM keys in on stdin): ", c.Key, c.Profile)
		b, rerr := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		v, err = string(b), rerr
	} else {
		v, err = readSecret(env.Stdin, c.Key)
	}
	if err != nil {
		return err
	}
	if v == "" {
		return fmt.Errorf("empty %s; nothing stored", c.Key)
	}
	if err := eng.Store.SetSecret(c.Profile, c.Key, v); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "lanyard: stored %s for %s in the %s keyring\n", c.Key, c.Profile, eng.Store.Backend())
	return nil
}

// SecretRmCmd removes a secret.
type SecretRmCmd struct {
	Profile string `arg:"" help:"Profile name." predictor:"profile"`
	Key     string `arg:"" default:"client_secret" help:"Which secret."`
}

// Run removes the secret.
func (c *SecretRmCmd) Run(env *Env, eng *engine.Engine) error {
	if err := eng.Store.DeleteSecret(c.Profile, c.Key); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "lanyard: removed %s for %s\n", c.Key, c.Profile)
	return nil
}

// maxSecret bounds a secret read from stdin (a PEM private key is ~3 KiB).
const maxSecret = 64 << 10

// readSecret reads all of stdin, for secrets that span lines (a GitHub
// App's PEM key); only trailing line breaks are dropped.
func readSecret(r io.Reader, what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSecret+1))
	if err != nil {
		return "", fmt.Errorf("could not read the %s from stdin: %w", what, err)
	}
	if len(b) > maxSecret {
		return "", fmt.Errorf("the %s on stdin is longer than %d bytes; nothing stored", what, maxSecret)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("stdin held no %s; pipe it in, e.g. lanyard secret set PROFILE KEY < file", what)
	}
	return v, nil
}
