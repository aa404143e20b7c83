package mcp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEvents(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Event
	}{
		{"one", "id: 1\ndata: {\"a\":1}\n\n", []Event{{ID: "1", Data: []byte(`{"a":1}`)}}},
		{"crlf and multi-line", "event: message\r\ndata: a\r\ndata: b\r\n\r\n", []Event{{Name: "message", Data: []byte("a\nb")}}},
		{"comment and retry", ": keepalive\nretry: 1500\nid: 7\n\ndata: x\n\n", []Event{{ID: "7", Data: []byte("x"), Retry: 1500 * time.Millisecond}}},
		{"priming event without data", "id: p\ndata:\n\n", []Event{{ID: "p", Data: []byte("")}}},
		{"unterminated", "data: lost", nil},
		{"id survives", "id: 3\ndata: a\n\ndata: b\n\n", []Event{{ID: "3", Data: []byte("a")}, {ID: "3", Data: []byte("b")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Event
			if err := Events(strings.NewReader(tt.in), func(e Event) error { got = append(got, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	var retry time.Duration
	_ = Events(strings.NewReader("retry: 1500\ndata: x\n\n"), func(e Event) error { retry = e.Retry; return nil })
	if retry != 1500*time.Millisecond {
		t.Errorf("got retry %s, want 1.5s", retry)
	}
	big := "data: " + strings.Repeat("x", maxEvent+1) + "\n\n"
	if err := Events(strings.NewReader(big), func(Event) error { return nil }); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("got %v for a huge event, want ErrEventTooLarge", err)
	}
}
