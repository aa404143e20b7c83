package mcp

import (
	"strings"
	"testing"
)

// FuzzEvents: any byte stream ends in events or an error, never a panic
// or an event larger than the cap.
func FuzzEvents(f *testing.F) {
	f.Add("id: 1\ndata: {}\n\n")
	f.Add("event: x\r\ndata: a\rdata: b\r\n\r\n:c\nretry: 5\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = Events(strings.NewReader(in), func(e Event) error {
			if len(e.Data) > maxEvent {
				t.Fatalf("event of %d bytes", len(e.Data))
			}
			return nil
		})
	})
}
