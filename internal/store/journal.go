package store

import "os"

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
	return h != nil && h.write(h.journalPath(profile), profile, "journal:"+profile, Journal{Prev: prev, Token: *t})
}

// JournalPath is where profile's journal is kept.
func (h *HotCache) JournalPath(profile string) string { return h.journalPath(profile) }

// ReadJournal returns profile's journal, if one is left.
func (h *HotCache) ReadJournal(profile string) (*Journal, bool) {
	var j Journal
	if h == nil || !h.read(h.journalPath(profile), profile, "journal:"+profile, &j) {
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
