package shared

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
)

// sealer encrypts token records with AES-256-GCM under the team key, and
// tags cache keys with HMAC-SHA256 under it.
type sealer struct {
	aead cipher.AEAD
	key  []byte
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("the team key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: g, key: key}, nil
}

// keyTag is what Redis holds of a profile's cache key: an HMAC under the
// team key. The cache key is an unsalted hash of the profile's settings
// (issuer, client_id, scopes...), which anyone who can guess them computes
// offline; the tag says nothing without the key.
func (s *sealer) keyTag(cacheKey string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("lanyard-shared-cache-key-v1\x00"))
	m.Write([]byte(cacheKey))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// ad binds a sealed record to where it belongs: the key prefix, the
// profile, the tag of the profile's cache key (keyTag) and the record's
// version. A record copied to another profile or another team's prefix, or
// relabelled with another version number, does not open. A whole earlier record restored
// with its own version does open: the AEAD cannot tell it is old, so each
// machine keeps high-water marks (mark.go) and refuses it.
func ad(prefix, profile, cacheKey string, version int64) []byte {
	b := make([]byte, 0, len(prefix)+len(profile)+len(cacheKey)+24)
	b = append(b, "lanyard-shared-v1\x00"...)
	b = append(b, prefix...)
	b = append(b, 0)
	b = append(b, profile...)
	b = append(b, 0)
	b = append(b, cacheKey...)
	b = append(b, 0)
	return strconv.AppendInt(b, version, 10)
}

// seal returns nonce || ciphertext.
func (s *sealer) seal(plain, ad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return s.aead.Seal(nonce, nonce, plain, ad)
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("sealed record too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], ad)
}
