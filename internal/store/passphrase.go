package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// Passphrase returns the file backend's passphrase source:
// LANYARD_KEYRING_PASSPHRASE, else a prompt on the controlling terminal.
// Never stdin or stdout: those belong to the tool protocols.
func Passphrase(getenv func(string) string) func() (string, error) {
	return func() (string, error) {
		if p := getenv("LANYARD_KEYRING_PASSPHRASE"); p != "" {
			return p, nil
		}
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return "", errors.New("the file keyring needs a passphrase and there is no terminal to ask on; set LANYARD_KEYRING_PASSPHRASE")
		}
		defer tty.Close()
		fmt.Fprint(tty, "lanyard: passphrase for the encrypted token store: ")
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return "", fmt.Errorf("could not read passphrase: %w", err)
		}
		if len(b) == 0 {
			return "", errors.New("empty passphrase; set LANYARD_KEYRING_PASSPHRASE or type one")
		}
		return string(b), nil
	}
}
