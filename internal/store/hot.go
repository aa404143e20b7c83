package store

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/lanyardhq/lanyard/internal/env"
)

// HotCache keeps access and ID tokens (never refresh tokens or plugin
// state) for the engine's cache-hit path, so a hit costs no keyring unlock:
// the file backend spends 3-6 ms in PBKDF2 on every read, more than a whole
// helper process should take.
//
// Entries are files encrypted with AES-256-GCM under HMAC-SHA256(K,
// passphrase), where K is a random key that lives only in the kernel's
// per-user keyring (Linux keyctl), never on disk: a wrong passphrase misses
// the hot cache and meets the store's wrong-passphrase error. Each
// entry records the stamp (a hash of the bytes) of the store item it was copied
// from; when the item changes, disappears or is damaged, the entry is
// ignored and the store is read instead. Without keyctl (other systems,
// containers whose seccomp profile blocks it) there are no hits, every hit
// reads the store, and only the journal is kept, under a key derived from
// the passphrase with PBKDF2. The store stays the only source of truth: losing the
// hot cache costs one unlock, nothing else.
//
// Stores that seal token states (every backend but file) get a HotCache
// that never hits and only keeps the rotation journal, sealed with a key
// derived from the profile's seal key.
type HotCache struct {
	dir   string
	stamp func(profile string) string
	// key returns the AES-256 key of profile's entries and journal.
	key func(profile string, create bool) ([]byte, error)
	// hits is false for a journal-only cache.
	hits bool
}

// hotEntry is what an entry decrypts to.
type hotEntry struct {
	Stamp string `json:"stamp"`
	Token Token  `json:"token"`
}

// Hot returns the hot cache for this store, kept in dir, or nil when it
// cannot work here (not the file backend, no keyctl) or is turned off with
// LANYARD_HOT_CACHE=0. A nil *HotCache is valid and always misses.
//
// A store that seals token states gets a journal-only cache (see HotCache).
func (s *Store) Hot(dir string, getenv func(string) string) *HotCache {
	if s.sealDir != "" {
		return &HotCache{dir: filepath.Join(dir, storeScope(s.sealDir)), stamp: s.stamp, key: s.journalKey}
	}
	if s.fileDir == "" || !env.Env(getenv).HotCache() {
		return nil
	}
	scope := storeScope(s.fileDir)
	if !keyctlAvailable || keyctlProbe() != nil {
		// No kernel keyring (macOS, Windows, a container's seccomp): no
		// hits, but a journal under a key from the passphrase, so that a
		// save failing after a rotation still keeps the refresh token.
		return &HotCache{dir: filepath.Join(dir, scope), stamp: s.stamp, key: s.passphraseKey(scope)}
	}
	desc := "lanyard:hot:" + scope
	key := func(_ string, create bool) ([]byte, error) {
		k, err := hotKey(desc, filepath.Join(dir, scope), create)
		if err != nil {
			return nil, err
		}
		pass, err := s.pass()
		if err != nil {
			return nil, err
		}
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(pass))
		return mac.Sum(nil), nil
	}
	return &HotCache{dir: filepath.Join(dir, scope), stamp: s.stamp, key: key, hits: true}
}

// journalIterations is the PBKDF2 work of the passphrase journal key: as
// much as the file backend spends on each item (jose2go's PBES2 default).
const journalIterations = 8192

// passphraseKey derives the journal key of a file store without keyctl
// from its passphrase, once per process: it costs what one unlock costs.
func (s *Store) passphraseKey(scope string) func(string, bool) ([]byte, error) {
	derive := sync.OnceValues(func() ([]byte, error) {
		pass, err := s.pass()
		if err != nil {
			return nil, err
		}
		return pbkdf2.Key(sha256.New, pass, []byte("lanyard journal "+scope), journalIterations, 32)
	})
	return func(string, bool) ([]byte, error) { return derive() }
}

// hotKey returns the kernel-keyring key desc. Creating it happens under a
// file lock in dir, with a second search under the lock: two processes
// that both miss must not each add a key (the second add replaces the
// first, and whatever the first process sealed with it is lost).
func hotKey(desc, dir string, create bool) ([]byte, error) {
	k, err := keyctlKey(desc, false)
	if err == nil || !create {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	l := flock.New(filepath.Join(dir, ".key.lock"))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("could not lock the hot cache key: %w", err)
	}
	defer func() { _ = l.Unlock() }()
	return keyctlKey(desc, true)
}

// storeScope names a store's subdirectory of the hot cache: two stores
// (LANYARD_KEYRING_DIR) sharing a runtime dir must not overwrite each
// other's entries or journals.
func storeScope(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:8])
}

// stamp identifies the current version of profile's token item in the file
// backend: a hash of its bytes ("" when it does not exist). Every save
// encrypts with a fresh salt and IV, so any rewrite changes it; size and
// mtime would not do, as file times tick only every few milliseconds.
func (s *Store) stamp(profile string) string {
	if s.fileDir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(s.fileDir, fileName(tokenKey(profile))))
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func (h *HotCache) path(profile string) string {
	sum := sha256.Sum256([]byte(profile))
	return filepath.Join(h.dir, hex.EncodeToString(sum[:12]))
}

// Get returns the cached token of profile when its entry decrypts and still
// matches the store item; the caller checks freshness.
func (h *HotCache) Get(profile string) (*Token, bool) {
	if h == nil || !h.hits {
		return nil, false
	}
	var e hotEntry
	if !h.read(h.path(profile), profile, profile, &e) || e.Stamp == "" || e.Stamp != h.stamp(profile) {
		return nil, false
	}
	return &e.Token, true
}

// Stamp returns the current stamp of profile's store item. Take it before
// reading the store and give it to Put with what was read.
func (h *HotCache) Stamp(profile string) string {
	if h == nil {
		return ""
	}
	return h.stamp(profile)
}

// Put caches t's access and ID token for profile, bound to stamp, the
// store item's stamp taken before t was read from it (or right after the
// caller wrote it, holding the profile lock). Nothing is cached if the item
// has changed since: t might then be older than the store. Best effort:
// failures only cost a later unlock.
func (h *HotCache) Put(profile string, t *Token, stamp string) {
	if h == nil || !h.hits || t == nil || t.AccessToken == "" || stamp == "" || stamp != h.stamp(profile) {
		return
	}
	e := hotEntry{Stamp: stamp, Token: *t}
	e.Token.RefreshToken, e.Token.State = "", ""
	h.write(h.path(profile), profile, profile, e)
}

// write encrypts v's JSON with profile's key, bound to aad, and writes it to path. No fsync: a lost
// entry only costs a later unlock, and writes may happen on the hit path.
func (h *HotCache) write(path, profile, aad string, v any) bool {
	key, err := h.key(profile, true)
	if err != nil {
		return false
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return false
	}
	data, err := seal(key, plain, []byte(aad))
	if err != nil {
		return false
	}
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		return false
	}
	tmp, err := os.CreateTemp(h.dir, ".tmp-")
	if err != nil {
		return false
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
		return false
	}
	return true
}

// read reads path, decrypts it with profile's key and aad and decodes its JSON into v.
func (h *HotCache) read(path, profile, aad string, v any) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	key, err := h.key(profile, false)
	if err != nil {
		return false
	}
	plain, err := unseal(key, data, []byte(aad))
	return err == nil && json.Unmarshal(plain, v) == nil
}

// Drop removes profile's entry.
func (h *HotCache) Drop(profile string) {
	if h != nil {
		os.Remove(h.path(profile))
	}
}

// hotKeyLifetime is how long the cache key lives in the kernel keyring;
// after it expires entries are ignored and rewritten under a new key.
const hotKeyLifetime = 7 * 24 * time.Hour
