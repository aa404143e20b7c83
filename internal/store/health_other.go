//go:build !linux

package store

import "errors"

func secretServiceLocked(string) (bool, error) {
	return false, errors.New("secret-service is a Linux backend")
}

func keyctlProbe() error { return errors.New("keyctl is Linux only") }

func keyctlQuota() string { return "keyctl is Linux only" }
