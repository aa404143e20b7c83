package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/99designs/keyring"

	"github.com/lanyardhq/lanyard/internal/atomicfile"
)

// Sealed token states. Keyrings limit what one item or one user may hold:
// Windows Credential Manager 2,560 bytes per blob, Linux keyctl 20,000 bytes
// per non-root user in all. A token state with JWT access and ID tokens is
// 3-16 KB. So every backend but file keeps a profile's token state in a file
// under SealDir, encrypted with AES-256-GCM under a random 32-byte key, and
// only that key (62 bytes) in the keyring item "token:PROFILE". A state of
// any size then costs the keyring the same few bytes, and a save after the
// first one writes only the file: a keyring that is full, locked or gone
// after the token endpoint answered cannot lose a rotated refresh token.
// The key is made before lanyard talks to the token endpoint (Prepare).

// sealPrefix marks a keyring item that holds a seal key; anything else is a
// token state stored whole by an earlier version, read as it is and sealed
// at the next save.
const sealPrefix = "lanyard-sealed-v1:"

// sealKeySize is the AES-256 key size.
const sealKeySize = 32

// sealPath is the file holding profile's sealed token state.
func (s *Store) sealPath(profile string) string {
	sum := sha256.Sum256([]byte(profile))
	return filepath.Join(s.sealDir, hex.EncodeToString(sum[:12])+".token")
}

func sealAAD(profile string) []byte { return []byte("lanyard token state:" + profile) }

// rememberKey keeps profile's seal key for the life of the process: the
// journal is sealed with it, and a save after a read needs no keyring read.
func (s *Store) rememberKey(profile string, key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string][]byte{}
	}
	if key == nil {
		delete(s.keys, profile)
		return
	}
	s.keys[profile] = key
}

func (s *Store) knownKey(profile string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[profile]
}

// decodeSealKey returns the key in a keyring item, or nil when the item is
// not a seal key.
func decodeSealKey(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(sealPrefix)) {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(string(data[len(sealPrefix):]))
	if err == nil && len(key) != sealKeySize {
		err = fmt.Errorf("key is %d bytes, want %d", len(key), sealKeySize)
	}
	return key, err
}

// sealKey returns profile's seal key. Without create, from memory when
// this process has read or made it, else from the keyring. With create,
// always from the keyring (another process may have logged out and in
// since: a long-lived agent must not seal with a key nobody has any
// more), and a missing one is made and stored.
func (s *Store) sealKey(profile string, create bool) ([]byte, error) {
	if k := s.knownKey(profile); k != nil && !create {
		return k, nil
	}
	var legacy []byte
	it, err := s.kr.Get(tokenKey(profile))
	switch {
	case err == nil:
		key, derr := decodeSealKey(it.Data)
		if derr != nil {
			return nil, &CorruptError{Profile: profile, Item: "token key", Err: derr}
		}
		if key != nil {
			s.rememberKey(profile, key)
			return key, nil
		}
		// A whole state stored by an earlier version: seal it before its
		// item is replaced by a key, so that it survives a failed refresh.
		if !create {
			return nil, ErrNotFound
		}
		legacy = it.Data
	case !errors.Is(err, keyring.ErrKeyNotFound):
		return nil, s.explain(profile, tokenKey(profile), "token key", err)
	case !create:
		return nil, ErrNotFound
	}
	key := make([]byte, sealKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if legacy != nil {
		if err := s.writeSealedWith(profile, key, legacy); err != nil {
			return nil, fmt.Errorf("could not move the token state of profile %q out of the keyring: %w", profile, err)
		}
	}
	data := []byte(sealPrefix + base64.StdEncoding.EncodeToString(key))
	err = s.kr.Set(keyring.Item{Key: tokenKey(profile), Data: data, Label: "lanyard token key for " + profile, Description: "lanyard token key"})
	if err != nil {
		return nil, fmt.Errorf("could not store the token key for profile %q in the %s keyring: %w", profile, s.backend, s.hint(err))
	}
	s.rememberKey(profile, key)
	return key, nil
}

// Prepare makes sure a token state for profile can be saved without
// touching the keyring, so the keyring's failures surface before the token
// endpoint is asked (and a refresh token rotated): it reads the profile's
// key from the keyring, or makes one. Call it under the profile lock. A
// no-op for backends that store states whole.
func (s *Store) Prepare(profile string) error {
	if s.sealDir == "" {
		return nil
	}
	_, err := s.sealKey(profile, true)
	return err
}

// Unprepare undoes Prepare when no token state was saved: a seal key with
// no sealed state beside it is removed, so a token call or login that
// ended without a token leaves nothing of the profile in the keyring.
// Call it under the profile lock.
func (s *Store) Unprepare(profile string) {
	if s.sealDir == "" {
		return
	}
	if _, err := os.Stat(s.sealPath(profile)); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	s.rememberKey(profile, nil)
	_ = s.remove(tokenKey(profile))
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plain with key, bound to aad: nonce || ciphertext.
func seal(key, plain, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, aad), nil
}

// unseal reverses seal.
func unseal(key, data, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(data) < gcm.NonceSize() {
		return nil, errors.New("sealed data too short")
	}
	return gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], aad)
}

// readSealed returns profile's token state JSON, sealed under key.
func (s *Store) readSealed(profile string, key []byte) ([]byte, error) {
	data, err := os.ReadFile(s.sealPath(profile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("could not read the token state of profile %q: %w", profile, err)
	}
	plain, err := unseal(key, data, sealAAD(profile))
	if err != nil {
		return nil, &CorruptError{Profile: profile, Item: "token (" + s.sealPath(profile) + ")", Err: err}
	}
	return plain, nil
}

// writeSealed replaces profile's sealed token state with plain, under the
// key that Prepare or Token, called under the same profile lock, found in
// the keyring: no keyring access here, so a keyring that fails after the
// token endpoint answered cannot fail the save.
func (s *Store) writeSealed(profile string, plain []byte) error {
	key := s.knownKey(profile)
	if key == nil {
		var err error
		if key, err = s.sealKey(profile, true); err != nil {
			return err
		}
	}
	return s.writeSealedWith(profile, key, plain)
}

func (s *Store) writeSealedWith(profile string, key, plain []byte) error {
	data, err := seal(key, plain, sealAAD(profile))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.sealDir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(s.sealPath(profile), data, 0o600)
}

// journalKey derives the key that seals profile's journal from its seal
// key, which the store has read (and remembered) before any refresh.
func (s *Store) journalKey(profile string, _ bool) ([]byte, error) {
	key, err := s.sealKey(profile, false)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("lanyard journal"))
	return mac.Sum(nil), nil
}
