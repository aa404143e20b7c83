package main

import (
	"strings"
	"testing"
)

func TestReadSecret(t *testing.T) {
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIB\nabcd\n-----END RSA PRIVATE KEY-----"
	tests := []struct {
		in, want, err string
	}{
		{pem + "\n", pem, ""},
		{"s3cret\r\n", "s3cret", ""},
		{"\n\n", "", "stdin held no"},
		{strings.Repeat("x", maxSecret+1), "", "longer than"},
	}
	for _, tt := range tests {
		got, err := readSecret(strings.NewReader(tt.in), "private_key")
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("readSecret(%.20q) = %q, %v; want %q, error containing %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}
