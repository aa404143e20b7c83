package pykeyring_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testprovider"
)

// pyIndex is a PEP 503 simple index (/simple/), its files (/packages/) and
// a legacy upload endpoint (/legacy/, what twine posts to) over HTTPS on
// 127.0.0.1, for requests with HTTP Basic credentials check accepts; 401
// with WWW-Authenticate: Basic otherwise. It records every request.
type pyIndex struct {
	URL    string
	CAFile string
	check  func(user, pass string) bool
	wheel  []byte

	mu       sync.Mutex
	seen     []indexRequest
	uploaded []string
}

type indexRequest struct {
	Path     string
	User     string
	Sent     bool // a password was sent (pip sends the URL's username alone first)
	Accepted bool
}

const (
	project   = "lanyard-test-pkg"
	wheelName = "lanyard_test_pkg-1.0-py3-none-any.whl"
)

func startIndex(t *testing.T, check func(user, pass string) bool) *pyIndex {
	t.Helper()
	ca, err := testprovider.NewCA("lanyard pip test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("127.0.0.1", true)
	if err != nil {
		t.Fatal(err)
	}
	ix := &pyIndex{check: check, wheel: buildWheel(t)}
	ix.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ix.CAFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ix.serve))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ix.URL = srv.URL
	return ix
}

func (ix *pyIndex) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, sent := r.BasicAuth()
	ok := sent && ix.check(user, pass)
	ix.mu.Lock()
	ix.seen = append(ix.seen, indexRequest{Path: r.URL.Path, User: user, Sent: pass != "", Accepted: ok})
	ix.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="lanyard test index"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	sum := sha256.Sum256(ix.wheel)
	switch {
	case r.URL.Path == "/simple/":
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><a href=\"/simple/%s/\">%s</a></body></html>\n", project, project)
	case r.URL.Path == "/simple/"+project+"/":
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><a href=\"/packages/%s#sha256=%x\">%s</a></body></html>\n", wheelName, sum, wheelName)
	case r.URL.Path == "/packages/"+wheelName:
		w.Write(ix.wheel)
	case r.URL.Path == "/legacy/" && r.Method == http.MethodPost:
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, fh, err := r.FormFile("content")
		if err != nil || r.FormValue(":action") != "file_upload" {
			http.Error(w, "want :action=file_upload and content", http.StatusBadRequest)
			return
		}
		ix.mu.Lock()
		ix.uploaded = append(ix.uploaded, fh.Filename)
		ix.mu.Unlock()
		w.Write([]byte("OK"))
	default:
		http.NotFound(w, r)
	}
}

func (ix *pyIndex) requests() []indexRequest {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := ix.seen
	ix.seen = nil
	return s
}

// buildWheel makes a pure-Python wheel (PEP 427) of lanyard-test-pkg 1.0.
func buildWheel(t *testing.T) []byte {
	t.Helper()
	files := []struct{ name, body string }{
		{"lanyard_test_pkg/__init__.py", "VALUE = 42\n"},
		{"lanyard_test_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: lanyard-test-pkg\nVersion: 1.0\n"},
		{"lanyard_test_pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: lanyard-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var record strings.Builder
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.body))
		sum := sha256.Sum256([]byte(f.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.body))
	}
	record.WriteString("lanyard_test_pkg-1.0.dist-info/RECORD,,\n")
	w, err := zw.Create("lanyard_test_pkg-1.0.dist-info/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
