package store

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHotCache(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, filepath.Join(dir, "keyring"), "pw")
	hot := s.Hot(filepath.Join(dir, "hot"), func(string) string { return "" })
	if hot == nil {
		t.Skip("keyctl not available here; the hot cache is off and every hit reads the store")
	}
	if _, ok := hot.Get("p"); ok {
		t.Fatal("hit on an empty cache")
	}
	tok := &Token{Key: "k", AccessToken: "sentinel-access", RefreshToken: "sentinel-refresh", State: "sentinel-state", Expiry: time.Now().Add(time.Hour)}
	hot.Put("p", tok, hot.Stamp("p")) // no store item yet: nothing to bind to
	if _, ok := hot.Get("p"); ok {
		t.Fatal("an entry without a store item was served")
	}
	if err := s.SaveToken("p", tok); err != nil {
		t.Fatal(err)
	}
	hot.Put("p", tok, hot.Stamp("p"))
	got, ok := hot.Get("p")
	if !ok || got.AccessToken != "sentinel-access" || got.RefreshToken != "" || got.State != "" {
		t.Fatalf("got %+v, %v; want the access token without refresh token or state", got, ok)
	}
	files, _ := os.ReadDir(filepath.Join(dir, "hot"))
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(dir, "hot", f.Name()))
		if strings.Contains(string(b), "sentinel") {
			t.Fatalf("hot cache file %s holds a token in clear", f.Name())
		}
	}
	// A token read before the item changed is not cached under the new stamp.
	old := hot.Stamp("p")
	if err := s.SaveToken("p", &Token{Key: "k", AccessToken: "newer"}); err != nil {
		t.Fatal(err)
	}
	hot.Drop("p")
	hot.Put("p", tok, old)
	if _, ok := hot.Get("p"); ok {
		t.Error("a token read before a rewrite was cached against the new item")
	}
	if err := s.SaveToken("p", tok); err != nil {
		t.Fatal(err)
	}
	hot.Put("p", tok, hot.Stamp("p"))
	// Another profile's entry does not decrypt as this one (AAD).
	if err := os.Rename(hot.path("p"), hot.path("q")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken("q", tok); err != nil {
		t.Fatal(err)
	}
	if _, ok := hot.Get("q"); ok {
		t.Error("an entry moved to another profile's name was accepted")
	}
	hot.Put("p", tok, hot.Stamp("p"))
	// Any change to the store item (a refresh by a process without the
	// hot cache, damage, logout) retires the entry.
	time.Sleep(10 * time.Millisecond)
	if err := s.SaveToken("p", &Token{Key: "k", AccessToken: "newer"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := hot.Get("p"); ok {
		t.Error("entry survived a rewrite of the store item")
	}
	hot.Put("p", tok, hot.Stamp("p"))
	if err := s.DeleteToken("p"); err != nil {
		t.Fatal(err)
	}
	if _, ok := hot.Get("p"); ok {
		t.Error("entry survived deletion of the store item")
	}
	// Off by request.
	if s.Hot(dir, func(k string) string {
		if k == "LANYARD_HOT_CACHE" {
			return "0"
		}
		return ""
	}) != nil {
		t.Error("LANYARD_HOT_CACHE=0 did not turn the hot cache off")
	}
	var none *HotCache
	none.Put("p", tok, "x")
	none.Drop("p")
	if _, ok := none.Get("p"); ok {
		t.Error("nil hot cache hit")
	}
}

// TestHotKeyCreationDoesNotRace: processes that miss the kernel-keyring key
// at once end up with one key, not one each (an add replaces the key
// another process is already sealing with). Rounds of concurrent creators,
// each round with a fresh key.
func TestHotKeyCreationDoesNotRace(t *testing.T) {
	if !keyctlAvailable {
		t.Skip("keyctl is Linux only")
	}
	base := "lanyard:hot:test-race-" + time.Now().Format("150405.000000000")
	if _, err := keyctlKey(base, true); err != nil {
		t.Skipf("keyctl not usable here: %v", err)
	}
	unlinkKey(t, base)
	dir := t.TempDir()
	const rounds, n = 20, 32
	for r := range rounds {
		desc := base + "-" + strconv.Itoa(r)
		keys := make(chan string, n)
		var ready sync.WaitGroup
		ready.Add(n)
		start := make(chan struct{})
		for range n {
			go func() {
				ready.Done()
				<-start
				k, err := hotKey(desc, dir, true)
				if err != nil {
					keys <- "error: " + err.Error()
					return
				}
				keys <- string(k)
			}()
		}
		ready.Wait()
		close(start)
		distinct := map[string]bool{}
		for range n {
			distinct[<-keys] = true
		}
		unlinkKey(t, desc)
		if len(distinct) != 1 {
			t.Fatalf("round %d: %d different hot cache keys were created, want 1", r, len(distinct))
		}
	}
}

// A file store without keyctl keeps no hits but a journal under a key
// from the passphrase: another process with the passphrase reads it, one
// with a wrong passphrase does not.
func TestPassphraseJournal(t *testing.T) {
	dir := t.TempDir()
	journalOnly := func(pass string) *HotCache {
		s := openFile(t, filepath.Join(dir, "keyring"), pass)
		return &HotCache{dir: filepath.Join(dir, "hot"), stamp: s.stamp, key: s.passphraseKey("scope")}
	}
	h := journalOnly("pw")
	tok := &Token{Key: "k", AccessToken: "sentinel-access", RefreshToken: "sentinel-refresh", Expiry: time.Now().Add(time.Hour)}
	h.Put("p", tok, "stamp")
	if _, ok := h.Get("p"); ok {
		t.Fatal("a journal-only cache served a hit")
	}
	if !h.WriteJournal("p", "sentinel-prev", tok) {
		t.Fatal("journal not written")
	}
	if b, _ := os.ReadFile(h.JournalPath("p")); len(b) == 0 || strings.Contains(string(b), "sentinel") {
		t.Fatal("journal missing or in clear")
	}
	if j, ok := journalOnly("pw").ReadJournal("p"); !ok || j.Prev != "sentinel-prev" || j.Token.RefreshToken != "sentinel-refresh" {
		t.Fatalf("another process: %+v, %v", j, ok)
	}
	if _, ok := journalOnly("wrong").ReadJournal("p"); ok {
		t.Fatal("a wrong passphrase opened the journal")
	}
}
