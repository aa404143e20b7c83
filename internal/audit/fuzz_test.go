package audit

import (
	"strings"
	"testing"
)

// FuzzScan: whatever the file holds (it is a file anyone with our uid can
// write), reading it never panics and yields only events with a kind.
func FuzzScan(f *testing.F) {
	f.Add(`{"time":"2026-01-01T00:00:00Z","event":"handout","profile":"a"}` + "\n")
	f.Add("not json\n{\"event\":\"refusal\"}\n{\"event\":")
	f.Add(strings.Repeat("x", 70000) + "\n{\"event\":\"login\"}\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := scan(strings.NewReader(s), Filter{}, func(e Event) error {
			if e.Kind == "" {
				t.Errorf("event without kind from %q", s)
			}
			_ = e.Clean(func(s string) string { return s }).Text()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
