package shared

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"strconv"
)

// sealer encrypts token records with AES-256-GCM under the team key.
type sealer struct{ aead cipher.AEAD }

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
	return &sealer{aead: g}, nil
}

// ad binds a sealed record to where it belongs: the key prefix, the
// profile, the profile's cache key and the record's version. A record
// copied to another profile or another team's prefix, or relabelled with
// another version number, does not open. A whole earlier record restored
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
