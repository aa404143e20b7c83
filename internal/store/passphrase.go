package store

import (
	"errors"
	"fmt"

	"golang.org/x/term"

	"github.com/lanyardhq/lanyard/internal/env"
	"github.com/lanyardhq/lanyard/internal/tty"
)

// Passphrase returns the file backend's passphrase source:
// LANYARD_KEYRING_PASSPHRASE, else a prompt on the controlling terminal.
// Never stdin or stdout: those belong to the tool protocols.
func Passphrase(getenv func(string) string) func() (string, error) {
	return func() (string, error) {
		if p := env.Env(getenv).Passphrase(); p != "" {
			return p, nil
		}
		t, err := tty.Open()
		if err != nil {
			return "", errors.New("the file keyring needs a passphrase and there is no terminal to ask on; set LANYARD_KEYRING_PASSPHRASE")
		}
		defer t.Close()
		fmt.Fprint(t, "lanyard: passphrase for the encrypted token store: ")
		b, err := term.ReadPassword(int(t.Fd()))
		fmt.Fprintln(t)
		if err != nil {
			return "", fmt.Errorf("could not read passphrase: %w", err)
		}
		if len(b) == 0 {
			return "", errors.New("empty passphrase; set LANYARD_KEYRING_PASSPHRASE or type one")
		}
		return string(b), nil
	}
}
