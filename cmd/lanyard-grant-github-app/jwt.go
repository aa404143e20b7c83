package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// parsePrivateKey reads the app's private key: PEM, PKCS#1 ("RSA PRIVATE
// KEY", what GitHub's "Generate a private key" downloads) or PKCS#8
// ("PRIVATE KEY", after openssl pkcs8 -topk8). Errors never quote the key.
func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("is not PEM; it must hold the private key GitHub generated for the app (-----BEGIN RSA PRIVATE KEY-----)")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds an RSA PRIVATE KEY block that does not parse: %v", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds a PRIVATE KEY block that does not parse: %v", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("holds a %T key; GitHub Apps sign with RSA keys", k)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("holds a PEM block of type %q; want RSA PRIVATE KEY or PRIVATE KEY", block.Type)
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// appJWT signs the JWT a GitHub App authenticates as (RS256): issued 60 s
// in the past against clock drift, expiring after 9 minutes (GitHub allows
// at most 10), issuer the app ID (a number) or its client ID (a string).
func appJWT(key *rsa.PrivateKey, appID string, now time.Time) (string, error) {
	var iss any = appID
	if digits.MatchString(appID) {
		n, err := strconv.ParseInt(appID, 10, 64)
		if err == nil {
			iss = n
		}
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, err := json.Marshal(map[string]any{
		"iat": now.Add(-60 * time.Second).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": iss,
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing the app JWT: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}
