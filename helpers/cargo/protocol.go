// Package cargo is cargo's credential provider for lanyard profiles
// (cargo-credential-lanyard): the Cargo book's "Credential Provider
// Protocol", version 1, as the cargo-credential crate writes and reads it.
//
// This file is the protocol alone: parsing cargo's requests and formatting
// the answers, no I/O.
package cargo

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Hello is the provider's first line: the protocol versions it speaks.
const Hello = `{"v":[1]}` + "\n"

// ProtocolVersion is the only version lanyard speaks (cargo-credential
// PROTOCOL_VERSION_1).
const ProtocolVersion = 1

// PluginFlag is the argument cargo always runs a provider with.
const PluginFlag = "--cargo-plugin"

// Request kinds (cargo-credential Action, serde tag "kind").
const (
	KindGet    = "get"
	KindLogin  = "login"
	KindLogout = "logout"
)

// Error kinds (cargo-credential ErrorKind, kebab-case). UrlNotSupported
// and NotFound make cargo try its next provider; the others are final.
const (
	ErrURLNotSupported       = "url-not-supported"
	ErrNotFound              = "not-found"
	ErrOperationNotSupported = "operation-not-supported"
	ErrOther                 = "other"
)

// AuthBare is the cargo_auth value (config.CargoAuthBare) that sends the
// token without "Bearer ".
const AuthBare = "bare"

// Registry is the registry field of every request.
type Registry struct {
	IndexURL string   `json:"index-url"`
	Name     string   `json:"name,omitempty"`
	Headers  []string `json:"headers,omitempty"`
}

// Request is one line cargo sends. Fields of other kinds and operations
// are ignored, as the crate's serde does.
type Request struct {
	V        int      `json:"v"`
	Registry Registry `json:"registry"`
	Kind     string   `json:"kind"`
	// Operation is read, publish, yank, unyank or owners (kind get).
	Operation string `json:"operation,omitempty"`
	// Name and Vers name the crate of publish, yank, unyank and owners.
	Name string `json:"name,omitempty"`
	Vers string `json:"vers,omitempty"`
	// Token is what `cargo login` was given (kind login). lanyard never
	// stores it, and never writes it anywhere.
	Token string   `json:"token,omitempty"`
	Args  []string `json:"args,omitempty"`
}

// ErrBadRequest is wrapped by every ParseRequest error.
var ErrBadRequest = errors.New("not a cargo credential request")

// ParseRequest reads one request line.
func ParseRequest(line []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(line, &r); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if r.V != ProtocolVersion {
		// cargo-credential deserialize_request: the same text.
		return Request{}, fmt.Errorf("%w: unsupported protocol version %d", ErrBadRequest, r.V)
	}
	if r.Registry.IndexURL == "" {
		return Request{}, fmt.Errorf("%w: registry.index-url is missing", ErrBadRequest)
	}
	return r, nil
}

// IndexURL is the URL profiles' match lists are compared with: the
// registry's index URL without cargo's "sparse+" marker.
func (r Request) IndexURL() string {
	return strings.TrimPrefix(r.Registry.IndexURL, "sparse+")
}

// Get is the success answer to a get request.
type Get struct {
	Token  string
	Expiry time.Time
	// Bare sends the token alone instead of "Bearer TOKEN" (cargo_auth =
	// "bare"): cargo puts the answer as is into the Authorization header.
	Bare bool
}

// Format writes the answer line. The token is valid for every operation
// (operation_independent), so cargo reuses a read token for publish. A
// token with an expiry is cached by cargo until then ("expires"; cargo
// itself asks again a minute before); one without, for the session.
func (g Get) Format() []byte {
	token := g.Token
	if !g.Bare {
		token = "Bearer " + token
	}
	type get struct {
		Kind                 string `json:"kind"`
		Token                string `json:"token"`
		Cache                string `json:"cache"`
		Expiration           *int64 `json:"expiration,omitempty"`
		OperationIndependent bool   `json:"operation_independent"`
	}
	a := get{Kind: KindGet, Token: token, Cache: "session", OperationIndependent: true}
	if !g.Expiry.IsZero() {
		exp := g.Expiry.Unix()
		a.Cache, a.Expiration = "expires", &exp
	}
	return line(map[string]any{"Ok": a})
}

// Fail formats an error answer; message may be empty (cargo then shows
// the kind's own text).
func Fail(kind, message string) []byte {
	type fail struct {
		Kind    string `json:"kind"`
		Message string `json:"message,omitempty"`
	}
	return line(map[string]any{"Err": fail{Kind: kind, Message: message}})
}

// ManagedMessage says who manages the registry's token instead of cargo
// login or cargo logout.
func ManagedMessage(kind, profile string) string {
	if profile == "" {
		profile = "PROFILE"
	}
	return fmt.Sprintf("lanyard manages this registry's token (profile %s); cargo %s changes nothing; run: lanyard %s %s", profile, kind, kind, profile)
}

func line(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings, bools and ints only
	}
	return append(b, '\n')
}
