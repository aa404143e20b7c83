package git_test

// End-to-end: Debian's git-lfs pushes and pulls an object through a Go LFS
// server (batch API on one host, basic transfer on another), asking
// git-credential-lanyard for the token on each host.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lanyardhq/lanyard/internal/testbin"
)

// lfsServer is a Git LFS server: the batch API (api) and the basic
// transfer adapter's object store (objects) on two hosts, each accepting
// only Basic credentials whose password valid accepts.
type lfsServer struct {
	api, objects *httptest.Server
	valid        func(user, pass string) bool

	mu    sync.Mutex
	store map[string][]byte
	// authorized counts accepted requests by kind ("batch upload", "batch
	// download", "PUT", "GET"); rejected counts refused credentials.
	authorized map[string]int
	rejected   int
}

func startLFS(t *testing.T, valid func(user, pass string) bool) *lfsServer {
	t.Helper()
	s := &lfsServer{valid: valid, store: map[string][]byte{}, authorized: map[string]int{}}
	s.api = httptest.NewServer(http.HandlerFunc(s.serveAPI))
	t.Cleanup(s.api.Close)
	s.objects = httptest.NewServer(http.HandlerFunc(s.serveObject))
	t.Cleanup(s.objects.Close)
	return s
}

// auth checks the request's Basic credentials; on failure it answers 401
// with a Basic challenge.
func (s *lfsServer) auth(w http.ResponseWriter, r *http.Request, kind string) bool {
	user, pass, ok := r.BasicAuth()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || !s.valid(user, pass) {
		if ok {
			s.rejected++
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="lanyard test lfs"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return false
	}
	s.authorized[kind]++
	return true
}

type lfsObject struct {
	OID     string                    `json:"oid"`
	Size    int64                     `json:"size"`
	Actions map[string]map[string]any `json:"actions,omitempty"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// serveAPI answers POST /repo.git/info/lfs/objects/batch (the LFS batch
// API); anything else (the locking API) is 404, which git-lfs tolerates.
func (s *lfsServer) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/info/lfs/objects/batch") {
		http.NotFound(w, r)
		return
	}
	var req struct {
		Operation string      `json:"operation"`
		Objects   []lfsObject `json:"objects"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !s.auth(w, r, "batch "+req.Operation) {
		return
	}
	out := make([]lfsObject, 0, len(req.Objects))
	for _, o := range req.Objects {
		s.mu.Lock()
		_, have := s.store[o.OID]
		s.mu.Unlock()
		// No "authenticated": true and no header in the actions: git-lfs
		// must get credentials for the object host itself.
		href := map[string]any{"href": s.objects.URL + "/objects/" + o.OID}
		res := lfsObject{OID: o.OID, Size: o.Size}
		switch {
		case req.Operation == "upload" && !have:
			res.Actions = map[string]map[string]any{"upload": href}
		case req.Operation == "download" && have:
			res.Actions = map[string]map[string]any{"download": href}
		case req.Operation == "download":
			res.Error = &struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}{404, "object not found"}
		}
		out = append(out, res)
	}
	w.Header().Set("Content-Type", "application/vnd.git-lfs+json")
	_ = json.NewEncoder(w).Encode(map[string]any{"transfer": "basic", "objects": out})
}

// serveObject stores (PUT) and returns (GET) /objects/OID, checking the
// content against its oid.
func (s *lfsServer) serveObject(w http.ResponseWriter, r *http.Request) {
	oid, ok := strings.CutPrefix(r.URL.Path, "/objects/")
	if !ok || (r.Method != http.MethodPut && r.Method != http.MethodGet) {
		http.NotFound(w, r)
		return
	}
	if !s.auth(w, r, r.Method) {
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		data, have := s.store[oid]
		s.mu.Unlock()
		if !have {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != oid {
		http.Error(w, "content does not match its oid", http.StatusUnprocessableEntity)
		return
	}
	s.mu.Lock()
	s.store[oid] = data
	s.mu.Unlock()
}

func (s *lfsServer) counts() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for k, v := range s.authorized {
		m[k] = v
	}
	return m, s.rejected
}

func TestGitLFSPushPull(t *testing.T) {
	testbin.NeedTool(t, "git-lfs")
	w := newWorld(t)
	op := startOP(t)
	gitSrv, repo := w.opServer(op, "oauth2")
	lfs := startLFS(t, func(u, p string) bool { return u == "oauth2" && op.Valid(p) })
	// One profile for the git host, the LFS API host and the object host.
	w.env.WriteConfig(t, ccProfile("p", op, fmt.Sprintf("match = [%q, %q, %q]", gitSrv.URL+"/", lfs.api.URL+"/", lfs.objects.URL+"/")))
	w.gitConfig("credential.helper", "lanyard")
	w.gitConfig("lfs.url", lfs.api.URL+"/repo.git/info/lfs")
	w.gitConfig("lfs.locksverify", "false")

	clone := filepath.Join(t.TempDir(), "clone")
	w.must("", w.git, "clone", "-q", repo, clone)
	w.must(clone, w.git, "lfs", "install", "--local")
	w.must(clone, w.git, "lfs", "track", "*.bin")
	content := bytes.Repeat([]byte("lanyard lfs object\n"), 1000)
	if err := os.WriteFile(filepath.Join(clone, "big.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	w.must(clone, w.git, "add", ".gitattributes", "big.bin")
	w.must(clone, w.git, "commit", "-q", "-m", "an LFS object")
	w.must(clone, w.git, "push", "-q", "origin", "main")
	if n, _ := lfs.counts(); n["batch upload"] == 0 || n["PUT"] != 1 {
		t.Fatalf("after push: authorized requests %v, want batch upload and one PUT", n)
	}

	// A second clone downloads the object through the smudge filter.
	w.must("", w.git, "lfs", "install") // the filter for new clones (global, in the test HOME)
	other := filepath.Join(t.TempDir(), "other")
	w.must("", w.git, "clone", "-q", repo, other)
	got, err := os.ReadFile(filepath.Join(other, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("big.bin in the second clone: got %d bytes (%.60q), want the %d-byte object", len(got), got, len(content))
	}
	n, rejected := lfs.counts()
	if n["batch download"] == 0 || n["GET"] != 1 {
		t.Errorf("after pull: authorized requests %v, want batch download and one GET", n)
	}
	if rejected != 0 || gitSrv.Rejected.Load() != 0 {
		t.Errorf("rejected credentials: LFS %d, git %d; want 0", rejected, gitSrv.Rejected.Load())
	}
	if r := op.TokenRequests(); r != 1 {
		t.Errorf("token requests: got %d, want 1 (git, the LFS API and the object host share the cached token)", r)
	}
}
