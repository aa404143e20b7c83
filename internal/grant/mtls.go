package grant

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// WithClientCert returns a copy of base whose TLS connections present the
// PEM certificate chain and key (RFC 8705 §2: tls_client_auth and
// self_signed_tls_client_auth). Errors never quote the key.
func WithClientCert(base *http.Client, certPEM, keyPEM []byte) (*http.Client, error) {
	if !strings.Contains(string(certPEM), "CERTIFICATE-----") {
		return nil, errors.New("tls_cert is not a PEM certificate (want -----BEGIN CERTIFICATE-----)")
	}
	if !strings.Contains(string(keyPEM), "PRIVATE KEY-----") {
		return nil, errors.New("tls_key is not a PEM private key (want -----BEGIN PRIVATE KEY-----)")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return nil, errors.New("tls_key is not the key of tls_cert: the certificate's public key does not match; point tls_key at the key the certificate was issued for")
		}
		return nil, fmt.Errorf("tls_cert and tls_key do not form a key pair: %w", err)
	}
	var tr *http.Transport
	if base != nil {
		if t, ok := base.Transport.(*http.Transport); ok {
			tr = t.Clone()
		} else if base.Transport != nil {
			return nil, fmt.Errorf("client certificates need an *http.Transport, not %T", base.Transport)
		}
	}
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	c := &http.Client{Transport: tr}
	if base != nil {
		c.Timeout, c.CheckRedirect, c.Jar = base.Timeout, base.CheckRedirect, base.Jar
	}
	return c, nil
}
