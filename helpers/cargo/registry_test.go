package cargo_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// registry is a sparse cargo registry (the Cargo book, "Registry Index"
// and "Registry Web API") with auth-required: every request, config.json
// included, needs an Authorization header that check accepts. It serves
// crates from memory and takes publishes, which then appear in the index.
type registry struct {
	URL   string // http://127.0.0.1:PORT
	check func(auth string) bool

	mu     sync.Mutex
	index  map[string][]string // crate -> index lines
	crates map[string][]byte   // "name-vers" -> .crate
	// seen records what Authorization each path got: "" for none.
	seen      []request
	published []string
}

type request struct{ Path, Auth string }

func startRegistry(t *testing.T, check func(auth string) bool) *registry {
	t.Helper()
	r := &registry{check: check, index: map[string][]string{}, crates: map[string][]byte{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// IndexURL is the registry's index for cargo's configuration.
func (r *registry) IndexURL() string { return "sparse+" + r.URL + "/index/" }

func (r *registry) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.seen...)
}

// add puts a crate with one lib.rs into the registry.
func (r *registry) add(t *testing.T, name, vers string) {
	t.Helper()
	data := crateFile(t, name, vers)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addLocked(name, vers, data)
}

func (r *registry) addLocked(name, vers string, data []byte) {
	sum := sha256.Sum256(data)
	line, _ := json.Marshal(map[string]any{"name": name, "vers": vers, "deps": []any{}, "cksum": hex.EncodeToString(sum[:]), "features": map[string]any{}, "yanked": false})
	r.index[name] = append(r.index[name], string(line))
	r.crates[name+"-"+vers] = data
}

func (r *registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	auth := req.Header.Get("Authorization")
	r.mu.Lock()
	r.seen = append(r.seen, request{req.URL.Path, auth})
	r.mu.Unlock()
	if !r.check(auth) {
		// RFC 3139: a 401 with this challenge makes cargo ask its
		// credential provider and try again.
		w.Header().Set("WWW-Authenticate", `Cargo login_url="`+r.URL+`/me"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	switch p := req.URL.Path; {
	case p == "/index/config.json":
		json.NewEncoder(w).Encode(map[string]any{"dl": r.URL + "/dl", "api": r.URL, "auth-required": true})
	case strings.HasPrefix(p, "/index/"):
		name := p[strings.LastIndex(p, "/")+1:]
		r.mu.Lock()
		lines := r.index[name]
		r.mu.Unlock()
		if len(lines) == 0 {
			http.NotFound(w, req)
			return
		}
		io.WriteString(w, strings.Join(lines, "\n")+"\n")
	case strings.HasPrefix(p, "/dl/"):
		// /dl/NAME/VERS/download
		parts := strings.Split(strings.TrimPrefix(p, "/dl/"), "/")
		if len(parts) != 3 {
			http.NotFound(w, req)
			return
		}
		r.mu.Lock()
		data := r.crates[parts[0]+"-"+parts[1]]
		r.mu.Unlock()
		if data == nil {
			http.NotFound(w, req)
			return
		}
		w.Write(data)
	case p == "/api/v1/crates/new" && req.Method == http.MethodPut:
		name, vers, data, err := readPublish(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.addLocked(name, vers, data)
		r.published = append(r.published, name+"-"+vers)
		r.mu.Unlock()
		io.WriteString(w, `{"warnings":{"invalid_categories":[],"invalid_badges":[],"other":[]}}`)
	default:
		http.NotFound(w, req)
	}
}

// readPublish reads the publish body: a little-endian u32 length and the
// JSON metadata, then a u32 length and the .crate file.
func readPublish(body io.Reader) (name, vers string, crate []byte, err error) {
	part := func() ([]byte, error) {
		var n uint32
		if err := binary.Read(body, binary.LittleEndian, &n); err != nil {
			return nil, err
		}
		if n > 10<<20 {
			return nil, fmt.Errorf("part of %d bytes", n)
		}
		b := make([]byte, n)
		_, err := io.ReadFull(body, b)
		return b, err
	}
	meta, err := part()
	if err != nil {
		return "", "", nil, err
	}
	var m struct{ Name, Vers string }
	if err := json.Unmarshal(meta, &m); err != nil {
		return "", "", nil, err
	}
	crate, err = part()
	return m.Name, m.Vers, crate, err
}

// crateFile is a .crate: a gzipped tar of NAME-VERS/ with Cargo.toml and
// src/lib.rs.
func crateFile(t *testing.T, name, vers string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := map[string]string{
		"Cargo.toml": fmt.Sprintf("[package]\nname = %q\nversion = %q\nedition = \"2021\"\n", name, vers),
		"src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
	}
	for _, f := range []string{"Cargo.toml", "src/lib.rs"} {
		body := files[f]
		if err := tw.WriteHeader(&tar.Header{Name: name + "-" + vers + "/" + f, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
