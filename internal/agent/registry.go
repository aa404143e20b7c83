package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Forward describes one running `lanyard agent forward`, for --list and
// --close: each forward writes one while it runs, in the forwards
// directory next to the agent socket.
type Forward struct {
	ID        string    `json:"id"`
	PID       int       `json:"pid"`
	Socket    string    `json:"socket"`
	Profiles  []string  `json:"profiles"`
	Started   time.Time `json:"started"`
	Expires   time.Time `json:"expires,omitzero"`
	AllowUIDs []uint32  `json:"allow_uids,omitempty"`
	Confirm   bool      `json:"confirm,omitempty"`
}

// ForwardsDir is where forwards describe themselves: agentSocket's
// directory, forwards/.
func ForwardsDir(agentSocket string) string {
	return filepath.Join(filepath.Dir(agentSocket), "forwards")
}

// NewForwardID is a short random name for a forward.
func NewForwardID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SaveForward writes f into dir (0700) and returns what removes it.
func SaveForward(dir string, f Forward) (remove func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, f.ID+".json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("could not record the forward: %w", err)
	}
	return func() { os.Remove(path) }, nil
}

// Forwards lists the forwards recorded in dir, oldest first.
func Forwards(dir string) ([]Forward, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Forward
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		var f Forward
		if json.Unmarshal(b, &f) != nil || f.ID != strings.TrimSuffix(filepath.Base(n), ".json") {
			continue
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

// RemoveForward drops the record of a forward that is gone.
func RemoveForward(dir, id string) {
	if id == "" || strings.ContainsAny(id, `/\.`) {
		return
	}
	_ = os.Remove(filepath.Join(dir, id+".json"))
}

// ErrNoForward means no forward has that ID.
var ErrNoForward = errors.New("no such forward")
