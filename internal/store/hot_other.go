//go:build !linux

package store

import "errors"

const keyctlAvailable = false

func keyctlKey(string, bool) ([]byte, error) { return nil, errors.New("keyctl is Linux only") }
