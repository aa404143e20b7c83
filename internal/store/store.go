// Package store keeps lanyard's secrets and tokens in a keyring
// (99designs/keyring). A cache hit costs exactly one keyring read (one
// unlock with the file backend): the file backend holds each profile's
// token state as one item; every other backend holds a small key and the
// state is sealed with it in a file (seal.go), whatever the backend's size
// limits.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/99designs/keyring"

	_ "github.com/lanyardhq/lanyard/internal/dbusenv" // before keyring's init: no dbus-launch
)

const serviceName = "lanyard"

// Token is the persisted token state of one profile.
type Token struct {
	// Key is the profile's cache key when the token was minted; a token
	// whose key differs from the profile's current one is never handed out.
	Key          string    `json:"key"`
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	// ExpiryGuessed is set when the server said nothing about lifetime and
	// lanyard assumed a short one.
	ExpiryGuessed bool      `json:"expiry_guessed,omitempty"`
	Obtained      time.Time `json:"obtained,omitzero"`
	Scope         []string  `json:"scope,omitempty"`
	// State is opaque refresh state kept for plugin grants.
	State string `json:"state,omitempty"`
	// IssuedTokenType is a token exchange's issued_token_type (RFC 8693).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	// LastRefresh is when a refresh token was last exchanged for this
	// state (zero before the first refresh), and RefreshRotates whether
	// that exchange returned a new refresh token; lanyard status shows both.
	LastRefresh    time.Time `json:"last_refresh,omitzero"`
	RefreshRotates bool      `json:"refresh_rotates,omitempty"`
	// RefreshRefused is when the server refused RefreshToken in words that
	// say it is unusable but not in RFC 6749's (grant.RefreshSuspect, e.g.
	// Dex's invalid_request): the token is kept, and not sent again until a
	// login replaces this state.
	RefreshRefused time.Time `json:"refresh_refused,omitzero"`
}

// ErrNotFound means nothing is stored under the key.
var ErrNotFound = errors.New("not found in keyring")

// CorruptError means a stored item exists but cannot be decoded.
type CorruptError struct {
	Profile string
	Item    string
	Err     error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("stored %s for profile %q is damaged (%v); run: lanyard logout %s", e.Item, e.Profile, e.Err, e.Profile)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Options selects and configures the keyring backend.
type Options struct {
	// Backend is secret-service, keychain, wincred, pass, keyctl, file, or
	// "" for the first one available.
	Backend string
	// FileDir is the directory of the encrypted file backend.
	FileDir string
	// Passphrase returns the file backend's passphrase; called at most once.
	Passphrase func() (string, error)
	// Getenv reads the environment for error advice (nil: os.Getenv).
	Getenv func(string) string
	// SealDir holds the sealed token states of every backend but file
	// (seal.go); "" stores states whole in the keyring.
	SealDir string
}

// Store is lanyard's view of the keyring.
type Store struct {
	kr      keyring.Keyring
	backend string
	fileDir string
	pass    func() (string, error) // the file backend's passphrase, asked at most once
	sealDir string                 // sealed token states; "" when stored whole

	mu   sync.Mutex
	keys map[string][]byte // seal keys read or made by this process
}

var backends = map[string]keyring.BackendType{
	"secret-service": keyring.SecretServiceBackend,
	"keychain":       keyring.KeychainBackend,
	"wincred":        keyring.WinCredBackend,
	"pass":           keyring.PassBackend,
	"keyctl":         keyring.KeyCtlBackend,
	"file":           keyring.FileBackend,
	"kwallet":        keyring.KWalletBackend,
}

// Open opens the keyring. It does not unlock the file backend: that happens
// at the first read or write.
func Open(opt Options) (*Store, error) {
	pass := sync.OnceValues(opt.Passphrase)
	cfg := keyring.Config{
		ServiceName:              serviceName,
		FileDir:                  opt.FileDir,
		FilePasswordFunc:         func(string) (string, error) { return pass() },
		KeychainTrustApplication: true,
		KeyCtlScope:              "user",
		LibSecretCollectionName:  "login",
		PassPrefix:               serviceName,
	}
	if opt.Backend != "" {
		b, ok := backends[opt.Backend]
		if !ok {
			return nil, fmt.Errorf("LANYARD_KEYRING_BACKEND=%q is not a backend; use one of secret-service, keychain, wincred, pass, keyctl, kwallet, file", opt.Backend)
		}
		cfg.AllowedBackends = []keyring.BackendType{b}
	}
	kr, err := keyring.Open(cfg)
	if err != nil {
		getenv := opt.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		return nil, openError(opt.Backend, err, getenv)
	}
	s := &Store{kr: kr, backend: backendName(kr, opt.Backend)}
	if s.backend == "file" {
		s.fileDir = opt.FileDir
		s.pass = pass
		s.kr = &atomicFile{Keyring: kr, dir: opt.FileDir, cfg: cfg}
	} else {
		s.sealDir = opt.SealDir
	}
	return s, nil
}

// NewWithKeyring wraps an already open keyring (tests use keyring.NewArrayKeyring).
func NewWithKeyring(kr keyring.Keyring, backend string) *Store {
	return &Store{kr: kr, backend: backend}
}

// NewSealed wraps an already open keyring that holds only keys, with the
// token states sealed in sealDir, as Open does for every backend but file.
func NewSealed(kr keyring.Keyring, backend, sealDir string) *Store {
	return &Store{kr: kr, backend: backend, sealDir: sealDir}
}

// backendName names the backend keyring.Open picked: the one asked for,
// or for auto the one it found.
func backendName(kr keyring.Keyring, asked string) string {
	if asked != "" {
		return asked
	}
	switch fmt.Sprintf("%T", kr) {
	case "*keyring.secretsKeyring":
		return "secret-service"
	case "*keyring.keychain":
		return "keychain"
	case "*keyring.windowsKeyring":
		return "wincred"
	case "*keyring.passKeyring":
		return "pass"
	case "*keyring.keyctlKeyring":
		return "keyctl"
	case "*keyring.fileKeyring":
		return "file"
	case "*keyring.kwalletKeyring":
		return "kwallet"
	}
	return "auto"
}

func orAuto(b string) string {
	if b == "" {
		return "auto"
	}
	return b
}

// Backend names the keyring backend in use.
func (s *Store) Backend() string { return s.backend }

func tokenKey(profile string) string        { return "token:" + profile }
func secretKey(profile, name string) string { return "secret:" + profile + ":" + name }

// Token returns the stored token state of profile, or ErrNotFound.
func (s *Store) Token(profile string) (*Token, error) {
	data, err := s.get(profile, tokenKey(profile), "token")
	if err != nil {
		return nil, err
	}
	if s.sealDir != "" {
		key, err := decodeSealKey(data)
		if err != nil {
			return nil, &CorruptError{Profile: profile, Item: "token key", Err: err}
		}
		if key != nil {
			s.rememberKey(profile, key)
			if data, err = s.readSealed(profile, key); err != nil {
				return nil, err
			}
		}
	}
	var t Token
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, &CorruptError{Profile: profile, Item: "token", Err: err}
	}
	return &t, nil
}

// SaveToken replaces the stored token state of profile in one write.
func (s *Store) SaveToken(profile string, t *Token) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if s.sealDir != "" {
		if err := s.writeSealed(profile, data); err != nil {
			return fmt.Errorf("could not save token for profile %q: %w", profile, err)
		}
		return nil
	}
	err = s.kr.Set(keyring.Item{Key: tokenKey(profile), Data: data, Label: "lanyard token for " + profile, Description: "lanyard token"})
	if err != nil {
		return fmt.Errorf("could not save token for profile %q: %w", profile, s.hint(err))
	}
	return nil
}

// DeleteToken removes the stored token state of profile; absent is not an error.
func (s *Store) DeleteToken(profile string) error {
	if s.sealDir != "" {
		s.rememberKey(profile, nil)
		if err := os.Remove(s.sealPath(profile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return s.remove(tokenKey(profile))
}

// Secret returns a secret stored with SetSecret.
func (s *Store) Secret(profile, name string) (string, error) {
	data, err := s.get(profile, secretKey(profile, name), "secret "+name)
	if err != nil {
		return "", err
	}
	return string(data), nil
}

// SetSecret stores a secret for profile under name.
func (s *Store) SetSecret(profile, name, value string) error {
	err := s.kr.Set(keyring.Item{Key: secretKey(profile, name), Data: []byte(value), Label: "lanyard " + name + " for " + profile, Description: "lanyard secret"})
	if err != nil {
		return fmt.Errorf("could not store %s for profile %q in the %s keyring: %w", name, profile, s.backend, s.hint(err))
	}
	return nil
}

// DeleteSecret removes a stored secret; absent is not an error.
func (s *Store) DeleteSecret(profile, name string) error {
	return s.remove(secretKey(profile, name))
}

func (s *Store) get(profile, key, what string) ([]byte, error) {
	it, err := s.kr.Get(key)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, s.explain(profile, key, what, err)
	}
	return it.Data, nil
}

// explain turns a backend read error into one that says what to do. For the
// file backend a well-formed but undecryptable item means a wrong
// passphrase; anything else is damage that logout repairs.
func (s *Store) explain(profile, key, what string, err error) error {
	if s.fileDir == "" {
		return fmt.Errorf("could not read %s for profile %q from the %s keyring: %w", what, profile, s.backend, s.hint(err))
	}
	raw, rerr := os.ReadFile(filepath.Join(s.fileDir, fileName(key)))
	if rerr == nil && strings.Count(strings.TrimSpace(string(raw)), ".") == 4 && strings.Contains(err.Error(), "integrity") {
		return fmt.Errorf("could not decrypt the file keyring at %s: wrong passphrase; check LANYARD_KEYRING_PASSPHRASE", s.fileDir)
	}
	return &CorruptError{Profile: profile, Item: what, Err: err}
}

func (s *Store) remove(key string) error {
	err := s.kr.Remove(key)
	if err == nil || errors.Is(err, keyring.ErrKeyNotFound) || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
