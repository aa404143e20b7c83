package engine

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/store"
)

// sealedEngine is an engine on a keyring that holds only keys, the token
// states sealed in dir/tokens, as with every backend but file.
func sealedEngine(dir string, kr keyring.Keyring) *Engine {
	st := store.NewSealed(kr, "keyctl", filepath.Join(dir, "tokens"))
	return &Engine{Store: st, Hot: st.Hot(filepath.Join(dir, "hot"), func(string) string { return "" }), HTTP: http.DefaultClient, StateDir: filepath.Join(dir, "state"), Now: time.Now, Log: slog.New(slog.DiscardHandler), LockTimeout: 30 * time.Second, Getenv: func(string) string { return "" }}
}

// TestSealedSaveFailureKeepsRotatedToken: the server rotates the refresh
// token, then the save fails (the token directory is gone and a file sits
// in its place). The error names the journal that keeps the new state, and
// once the directory is back the next call adopts it without asking the
// server (which would see a reused refresh token).
func TestSealedSaveFailureKeepsRotatedToken(t *testing.T) {
	srv := newRotatingServer(t, 3600)
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	sabotage := false
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sabotage {
			if err := os.Rename(tokens, tokens+".away"); err != nil {
				t.Error(err)
			}
			if err := os.WriteFile(tokens, nil, 0o600); err != nil {
				t.Error(err)
			}
		}
		srv.serve(w, r)
	}))
	defer front.Close()
	kr := keyring.NewArrayKeyring(nil)
	e := sealedEngine(dir, kr)
	p := profile(t, front.URL, config.GrantRefreshToken)
	if _, err := e.Login(t.Context(), p, LoginOptions{RefreshToken: srv.login()}); err != nil {
		t.Fatal(err)
	}

	sabotage = true
	_, err := e.Token(t.Context(), p, Options{ForceRefresh: true})
	sabotage = false
	if err == nil {
		t.Fatal("the save succeeded: the sabotage did not bite")
	}
	if !strings.Contains(err.Error(), e.Hot.JournalPath(p.Name)) || !strings.Contains(err.Error(), "do not log in again") {
		t.Fatalf("got %v; want the journal's path and advice", err)
	}
	for _, s := range []string{"rt-", "at-"} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("the error shows a token: %v", err)
		}
	}
	if err := os.Remove(tokens); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tokens+".away", tokens); err != nil {
		t.Fatal(err)
	}

	asked := srv.requests.Load()
	// The stored access token is still good, so only a slow path (here
	// after a 401; else at its expiry) looks at the journal.
	tok, err := sealedEngine(dir, kr).Token(t.Context(), p, Options{ForceRefresh: true})
	if err != nil {
		t.Fatalf("after the store came back: %v", err)
	}
	if srv.requests.Load() != asked || srv.reuse.Load() != 0 {
		t.Fatalf("%d more requests, %d reuses; want the journal adopted without the server", srv.requests.Load()-asked, srv.reuse.Load())
	}
	stored, err := sealedEngine(dir, kr).Store.Token(p.Name)
	if err != nil || stored.RefreshToken != tok.RefreshToken || tok.RefreshToken != "rt-3" {
		t.Fatalf("stored %+v (%v), returned %q; want rt-3 in both", stored, err, tok.RefreshToken)
	}
}
