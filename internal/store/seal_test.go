package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/keyring"
)

// cappedKeyring is a keyring with the limits of real ones: Windows
// Credential Manager refuses a blob over 2,560 bytes, Linux keyctl a user
// whose keys hold more than 20,000 bytes in all (description plus data).
type cappedKeyring struct {
	keyring.Keyring
	perItem, total int

	mu   sync.Mutex
	used map[string]int
}

func newCapped(perItem, total int) *cappedKeyring {
	return &cappedKeyring{Keyring: keyring.NewArrayKeyring(nil), perItem: perItem, total: total, used: map[string]int{}}
}

func (c *cappedKeyring) Set(it keyring.Item) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.perItem > 0 && len(it.Data) > c.perItem {
		return fmt.Errorf("the stub is too long (%d bytes, limit %d)", len(it.Data), c.perItem)
	}
	cost := len(it.Key) + len(it.Data)
	sum := cost
	for k, n := range c.used {
		if k != it.Key {
			sum += n
		}
	}
	if c.total > 0 && sum > c.total {
		return errors.New("disk quota exceeded")
	}
	if err := c.Keyring.Set(it); err != nil {
		return err
	}
	c.used[it.Key] = cost
	return nil
}

func (c *cappedKeyring) Remove(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.used, key)
	return c.Keyring.Remove(key)
}

func (c *cappedKeyring) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.used {
		n += v
	}
	return n
}

// bigToken is a token state of about size bytes of JSON, like one with JWT
// access and ID tokens from Entra ID.
func bigToken(name string, size int) *Token {
	pad := strings.Repeat("x", size/3)
	return &Token{Key: "k", AccessToken: "sentinel-access-" + name + pad, IDToken: "sentinel-id-" + pad, RefreshToken: "sentinel-refresh-" + name + pad, Expiry: time.Unix(1700000000, 0).UTC()}
}

func TestSealedLargeStates(t *testing.T) {
	for _, tc := range []struct {
		name           string
		perItem, total int
	}{
		{"wincred", 2560, 0},
		{"keyctl", 0, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const profiles = 8
			// Stored whole, the states do not fit.
			whole := NewWithKeyring(newCapped(tc.perItem, tc.total), tc.name)
			var err error
			for i := 0; i < profiles && err == nil; i++ {
				p := fmt.Sprintf("p%d", i)
				err = whole.SaveToken(p, bigToken(p, 16<<10))
			}
			if err == nil {
				t.Fatal("the capped keyring took every 16 KB state whole: the test's limits do not bite")
			}
			kr := newCapped(tc.perItem, tc.total)
			dir := t.TempDir()
			s := NewSealed(kr, tc.name, dir)
			for i := range profiles {
				p := fmt.Sprintf("p%d", i)
				if err := s.SaveToken(p, bigToken(p, 16<<10)); err != nil {
					t.Fatalf("save %s: %v", p, err)
				}
			}
			// A fresh store (another process) reads every state back.
			s = NewSealed(kr, tc.name, dir)
			for i := range profiles {
				p := fmt.Sprintf("p%d", i)
				got, err := s.Token(p)
				if err != nil {
					t.Fatalf("read %s: %v", p, err)
				}
				if want := bigToken(p, 16<<10); got.RefreshToken != want.RefreshToken || got.AccessToken != want.AccessToken || got.IDToken != want.IDToken {
					t.Fatalf("%s came back different", p)
				}
			}
			if n := kr.bytes(); n > profiles*100 {
				t.Errorf("the keyring holds %d bytes for %d profiles, want at most 100 each", n, profiles)
			}
			files, _ := os.ReadDir(dir)
			for _, f := range files {
				b, _ := os.ReadFile(filepath.Join(dir, f.Name()))
				if strings.Contains(string(b), "sentinel") {
					t.Fatalf("%s holds a token in clear", f.Name())
				}
			}
			if err := s.DeleteToken("p0"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Token("p0"); !errors.Is(err, ErrNotFound) {
				t.Errorf("after logout: %v, want ErrNotFound", err)
			}
			if _, err := os.Stat(s.sealPath("p0")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("logout left the sealed file: %v", err)
			}
		})
	}
}

func TestSealedDamage(t *testing.T) {
	kr := newCapped(0, 0)
	s := NewSealed(kr, "array", t.TempDir())
	if err := s.SaveToken("p", bigToken("p", 100)); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError

	// Another profile's file in this one's place fails authentication.
	if err := s.SaveToken("q", bigToken("q", 100)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(s.sealPath("q"))
	if err := os.WriteFile(s.sealPath("p"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSealed(kr, "array", s.sealDir).Token("p"); !errors.As(err, &ce) || !strings.Contains(err.Error(), "run: lanyard logout p") {
		t.Errorf("swapped file: got %v, want a CorruptError naming lanyard logout p", err)
	}

	// The file gone (data directory wiped): not logged in.
	os.Remove(s.sealPath("p"))
	if _, err := s.Token("p"); !errors.Is(err, ErrNotFound) {
		t.Errorf("file gone: got %v, want ErrNotFound", err)
	}

	// A damaged key item.
	if err := kr.Set(keyring.Item{Key: tokenKey("p"), Data: []byte(sealPrefix + "!!")}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSealed(kr, "array", s.sealDir).Token("p"); !errors.As(err, &ce) {
		t.Errorf("damaged key: got %v, want a CorruptError", err)
	}
}

func TestSealedAdoptsWholeState(t *testing.T) {
	kr := keyring.NewArrayKeyring(nil)
	want := bigToken("p", 200)
	if err := NewWithKeyring(kr, "array").SaveToken("p", want); err != nil {
		t.Fatal(err)
	}
	s := NewSealed(kr, "array", t.TempDir())
	got, err := s.Token("p")
	if err != nil || got.RefreshToken != want.RefreshToken {
		t.Fatalf("state stored whole by an earlier version: got %v, %v", got, err)
	}
	// Preparing a save replaces the item by a key; the state survives.
	if err := s.Prepare("p"); err != nil {
		t.Fatal(err)
	}
	it, _ := kr.Get(tokenKey("p"))
	if !strings.HasPrefix(string(it.Data), sealPrefix) {
		t.Fatal("the item still holds the whole state")
	}
	got, err = NewSealed(kr, "array", s.sealDir).Token("p")
	if err != nil || got.RefreshToken != want.RefreshToken {
		t.Fatalf("after Prepare: got %v, %v", got, err)
	}
}

func TestPrepareOnFullKeyring(t *testing.T) {
	kr := newCapped(0, 250)
	if err := kr.Set(keyring.Item{Key: "other-application", Data: make([]byte, 190)}); err != nil {
		t.Fatal(err)
	}
	s := NewSealed(kr, "keyctl", t.TempDir())
	err := s.Prepare("p")
	if err == nil || !strings.Contains(err.Error(), "keyctl keyring") || !strings.Contains(err.Error(), "quota") {
		t.Fatalf("got %v, want an error naming the keyctl keyring and its quota", err)
	}
}

func TestSealedJournal(t *testing.T) {
	dir := t.TempDir()
	s := NewSealed(keyring.NewArrayKeyring(nil), "array", filepath.Join(dir, "tokens"))
	hot := s.Hot(filepath.Join(dir, "hot"), func(string) string { return "" })
	tok := bigToken("p", 100)
	if err := s.SaveToken("p", tok); err != nil {
		t.Fatal(err)
	}
	hot.Put("p", tok, hot.Stamp("p"))
	if _, ok := hot.Get("p"); ok {
		t.Fatal("a journal-only cache served a hit")
	}
	next := bigToken("p2", 100)
	if !hot.WriteJournal("p", tok.RefreshToken, next) {
		t.Fatal("journal not written")
	}
	b, _ := os.ReadFile(hot.JournalPath("p"))
	if len(b) == 0 || strings.Contains(string(b), "sentinel") {
		t.Fatal("journal missing or in clear")
	}
	// Another process, with the key from the keyring.
	s2 := NewSealed(s.kr, "array", s.sealDir)
	j, ok := s2.Hot(filepath.Join(dir, "hot"), os.Getenv).ReadJournal("p")
	if !ok || j.Prev != tok.RefreshToken || j.Token.RefreshToken != next.RefreshToken {
		t.Fatalf("journal: %+v, %v", j, ok)
	}
}

// A long-lived process (the agent) must not seal with a key another
// process has since replaced (logout, then login).
func TestSealedKeyReplacedElsewhere(t *testing.T) {
	kr := keyring.NewArrayKeyring(nil)
	dir := t.TempDir()
	agent := NewSealed(kr, "array", dir)
	if err := agent.SaveToken("p", bigToken("old", 100)); err != nil {
		t.Fatal(err)
	}
	other := NewSealed(kr, "array", dir)
	if err := other.DeleteToken("p"); err != nil {
		t.Fatal(err)
	}
	if err := other.Prepare("p"); err != nil {
		t.Fatal(err)
	}
	if err := other.SaveToken("p", bigToken("new", 100)); err != nil {
		t.Fatal(err)
	}
	// The agent's next slow path: Prepare, then save.
	if err := agent.Prepare("p"); err != nil {
		t.Fatal(err)
	}
	if err := agent.SaveToken("p", bigToken("newer", 100)); err != nil {
		t.Fatal(err)
	}
	got, err := NewSealed(kr, "array", dir).Token("p")
	if err != nil || got.RefreshToken != bigToken("newer", 100).RefreshToken {
		t.Fatalf("got %v, %v; want the agent's state readable by everyone", got, err)
	}
}
