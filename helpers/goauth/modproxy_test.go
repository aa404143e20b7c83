package goauth_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testprovider"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// modProxy is a GOPROXY (the module proxy protocol, `go help goproxy`) over
// HTTPS on 127.0.0.1 with two roots: /private/ serves its modules only to
// requests with a Bearer token check accepts (401 otherwise), /public/
// serves its modules to anyone. It records every request.
type modProxy struct {
	URL    string // https://127.0.0.1:PORT
	CAFile string // the test CA, for SSL_CERT_FILE
	check  func(token string) bool
	mods   map[string]map[string][]byte // root -> "path/@v/version.ext" -> body

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	Path     string
	Auth     string // the Authorization header, as sent
	Accepted bool
}

func startModProxy(t *testing.T, check func(string) bool) *modProxy {
	t.Helper()
	ca, err := testprovider.NewCA("lanyard goauth test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("127.0.0.1", true)
	if err != nil {
		t.Fatal(err)
	}
	p := &modProxy{check: check, mods: map[string]map[string][]byte{"private": {}, "public": {}}}
	p.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p.CAFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// addModule builds path@version from files (name -> content; go.mod is
// added) with golang.org/x/mod/zip, under root ("private" or "public").
func (p *modProxy) addModule(t *testing.T, root, path, version string, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	gomod := fmt.Sprintf("module %s\n\ngo 1.21\n", path)
	files["go.mod"] = gomod
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromDir(&zip, module.Version{Path: path, Version: version}, dir); err != nil {
		t.Fatal(err)
	}
	esc, err := module.EscapePath(path)
	if err != nil {
		t.Fatal(err)
	}
	m := p.mods[root]
	m[esc+"/@v/list"] = append(m[esc+"/@v/list"], version+"\n"...)
	m[esc+"/@v/"+version+".info"] = fmt.Appendf(nil, `{"Version":%q,"Time":"2026-01-02T03:04:05Z"}`, version)
	m[esc+"/@v/"+version+".mod"] = []byte(gomod)
	m[esc+"/@v/"+version+".zip"] = zip.Bytes()
}

func (p *modProxy) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	root, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	ok := root == "public"
	if root == "private" {
		tok, bearer := strings.CutPrefix(auth, "Bearer ")
		ok = bearer && p.check(tok)
	}
	p.mu.Lock()
	p.seen = append(p.seen, seenRequest{Path: r.URL.Path, Auth: auth, Accepted: ok})
	p.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lanyard test proxy"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, found := p.mods[root][rest]
	if !found {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Write(body)
}

// requests returns what the proxy received so far, and forgets it.
func (p *modProxy) requests() []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.seen
	p.seen = nil
	return s
}
