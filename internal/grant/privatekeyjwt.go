package grant

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AssertionLifetime is how far ahead a signed client assertion expires:
// RFC 7523 §3 wants a short exp; the issue caps it at 5 minutes.
const AssertionLifetime = 2 * time.Minute

// KeySigner signs private_key_jwt client assertions (RFC 7523 §2.2, OpenID
// Connect Core §9): iss = sub = ClientID, aud, a unique jti, iat and exp.
type KeySigner struct {
	ClientID string
	KeyID    string
	Alg      jose.SignatureAlgorithm
	Key      crypto.Signer
	Now      func() time.Time
}

// Assertion signs a new assertion for aud.
func (s *KeySigner) Assertion(_ context.Context, aud string) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if s.KeyID != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), s.KeyID)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.Alg, Key: s.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("private_key_jwt: %w", err)
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := jwt.Claims{
		Issuer: s.ClientID, Subject: s.ClientID, Audience: jwt.Audience{aud},
		ID:       base64.RawURLEncoding.EncodeToString(jti),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
		Expiry: jwt.NewNumericDate(now.Add(AssertionLifetime)),
	}
	return jwt.Signed(sig).Claims(claims).Serialize()
}

// keyAlgs lists the signing algorithms each key type can make, default first.
func keyAlgs(k crypto.Signer) (string, []jose.SignatureAlgorithm) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("an RSA %d-bit key", k.N.BitLen()), []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return "an EC P-256 key", []jose.SignatureAlgorithm{jose.ES256}
		case elliptic.P384():
			return "an EC P-384 key", []jose.SignatureAlgorithm{jose.ES384}
		case elliptic.P521():
			return "an EC P-521 key", []jose.SignatureAlgorithm{jose.ES512}
		}
		return "an EC key on an unsupported curve", nil
	case ed25519.PrivateKey:
		return "an Ed25519 key", []jose.SignatureAlgorithm{jose.EdDSA}
	}
	return fmt.Sprintf("a %T key", k), nil
}

// ErrKeyAlgMismatch is returned (wrapped) when signing_alg does not fit the key.
var ErrKeyAlgMismatch = errors.New("signing_alg does not match the private key")

// ParseSigningKey reads a PEM private key (PKCS#8, PKCS#1 RSA or SEC 1 EC:
// RSA, EC P-256/P-384, Ed25519) and checks it against alg; alg "" picks
// the key type's default (RS256, ES256, ES384, EdDSA). Errors never quote
// the key.
func ParseSigningKey(pemData []byte, alg string) (crypto.Signer, jose.SignatureAlgorithm, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, "", errors.New("not a PEM private key (want -----BEGIN PRIVATE KEY-----)")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, "", fmt.Errorf("PEM block %q is not a private key (want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("PEM %s does not parse: %w", block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, "", fmt.Errorf("a %T key cannot sign", key)
	}
	what, algs := keyAlgs(signer)
	if len(algs) == 0 {
		return nil, "", fmt.Errorf("%s cannot sign assertions; use RSA, EC P-256/P-384 or Ed25519", what)
	}
	if alg == "" {
		return signer, algs[0], nil
	}
	if !slices.Contains(algs, jose.SignatureAlgorithm(alg)) {
		names := make([]string, len(algs))
		for i, a := range algs {
			names[i] = string(a)
		}
		return nil, "", fmt.Errorf("%w: signing_alg %q cannot be made with %s; use %s, or remove signing_alg", ErrKeyAlgMismatch, alg, what, strings.Join(names, ", "))
	}
	return signer, jose.SignatureAlgorithm(alg), nil
}
