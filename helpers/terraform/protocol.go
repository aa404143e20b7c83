// Package terraform is the Terraform and OpenTofu credentials helper for
// lanyard profiles (terraform-credentials-lanyard get|store|forget HOST):
// Terraform asks it for the token of a registry or TFE-style host and
// sends that token as "Authorization: Bearer".
//
// This file is the protocol alone, no I/O.
package terraform

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Verbs Terraform runs the helper with (its CLI configuration's
// credentials_helper block adds args before them).
const (
	VerbGet    = "get"
	VerbStore  = "store"
	VerbForget = "forget"
)

// NoCredentials is get's answer for a host no profile serves: Terraform
// then sends no token.
const NoCredentials = "{}\n"

// ErrBadHost is wrapped by HostURL's errors.
var ErrBadHost = errors.New("not a Terraform service hostname")

// HostURL returns the URL profiles' match lists are compared with for the
// hostname Terraform names: https://HOST/ (Terraform gives the host in its
// normalized form, with :PORT where the port is not 443).
func HostURL(host string) (string, error) {
	if host == "" {
		return "", fmt.Errorf("%w: empty", ErrBadHost)
	}
	if strings.ContainsAny(host, "/\\@?#%") || strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("%w: %q has characters a hostname cannot have", ErrBadHost, host)
	}
	u, err := url.Parse("https://" + host + "/")
	if err != nil || u.Host != host || u.Hostname() == "" {
		return "", fmt.Errorf("%w: %q", ErrBadHost, host)
	}
	return u.String(), nil
}

// FormatToken is get's answer: {"token":TOKEN}.
func FormatToken(token string) []byte {
	b, err := json.Marshal(struct {
		Token string `json:"token"`
	}{token})
	if err != nil {
		panic(err) // a string field only
	}
	return append(b, '\n')
}

// ManagedMessage is what store and forget say instead of storing or
// forgetting: lanyard keeps the host's token; profile is "" when no profile
// serves the host.
func ManagedMessage(verb, host, profile string) string {
	if profile == "" {
		return fmt.Sprintf("no lanyard profile matches https://%s/, and terraform %s cannot change lanyard's tokens; add match = [\"https://%s/\"] to a profile, then run: lanyard login PROFILE", host, loginWord(verb), host)
	}
	if verb == VerbForget {
		return fmt.Sprintf("lanyard manages the token of %s (profile %s); nothing was forgotten; run: lanyard logout %s", host, profile, profile)
	}
	return fmt.Sprintf("lanyard manages the token of %s (profile %s); nothing was stored; run: lanyard login %s", host, profile, profile)
}

func loginWord(verb string) string {
	if verb == VerbForget {
		return "logout"
	}
	return "login"
}
