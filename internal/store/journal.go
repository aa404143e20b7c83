package store

import (
	"crypto/rand"
	"encoding/json"
	"os"
)

// Journal is a token state written the moment a token endpoint answers,
// before the slower keyring save (PBKDF2 for the file backend). A process
// killed between the server rotating a refresh token and that save leaves
// the journal behind, and the next caller adopts it instead of presenting
// the rotated-away token (which Whiplash-style servers treat as theft).
type Journal struct {
	// Prev is the refresh token that was exchanged; the journal applies
	// only while the store still holds it.
	Prev  string `json:"prev"`
	Token Token  `json:"token"`
}

func (h *HotCache) journalPath(profile string) string { return h.path(profile) + ".journal" }

// WriteJournal records t as the successor of the refresh token prev. It
// returns false when it could not (no hot cache): the caller then relies
// on the store save alone.
func (h *HotCache) WriteJournal(profile, prev string, t *Token) bool {
	if h == nil {
		return false
	}
	gcm, err := h.aead(true)
	if err != nil {
		return false
	}
	plain, err := json.Marshal(Journal{Prev: prev, Token: *t})
	if err != nil {
		return false
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return false
	}
	return h.writeFile(h.journalPath(profile), gcm.Seal(nonce, nonce, plain, []byte("journal:"+profile)))
}

// ReadJournal returns profile's journal, if one is left.
func (h *HotCache) ReadJournal(profile string) (*Journal, bool) {
	if h == nil {
		return nil, false
	}
	data, err := os.ReadFile(h.journalPath(profile))
	if err != nil {
		return nil, false
	}
	gcm, err := h.aead(false)
	if err != nil || len(data) < gcm.NonceSize() {
		return nil, false
	}
	plain, err := gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], []byte("journal:"+profile))
	if err != nil {
		return nil, false
	}
	var j Journal
	if json.Unmarshal(plain, &j) != nil {
		return nil, false
	}
	return &j, true
}

// ClearJournal removes profile's journal.
func (h *HotCache) ClearJournal(profile string) {
	if h != nil {
		os.Remove(h.journalPath(profile))
	}
}
