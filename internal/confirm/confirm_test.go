//go:build !windows

package confirm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "confirm")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAsker(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	tests := []struct {
		name, body string
		wantErr    string
		asks       int // how many times two Asks for one key run the program
	}{
		{"allow is remembered", "echo >> " + count + "; exit 0", "", 1},
		{"refusal is asked again", "echo >> " + count + "; exit 3", "exit status 3", 2},
		{"hang is killed at the deadline", "echo >> " + count + "; sleep 30 & wait", "no answer within", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(count)
			a := &Asker{Program: script(t, tt.body), Timeout: 500 * time.Millisecond}
			for range 2 {
				start := time.Now()
				err := a.Ask(context.Background(), "k", "allow?")
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("Ask took %s: the hung program (and its child) were not killed", d)
				}
			}
			b, _ := os.ReadFile(count)
			if n := strings.Count(string(b), "\n"); n != tt.asks {
				t.Errorf("the program ran %d times, want %d", n, tt.asks)
			}
		})
	}
	if err := (&Asker{}).Ask(context.Background(), "k", "x"); !errors.Is(err, ErrRefused) {
		t.Errorf("no program: %v, want a refusal", err)
	}
}
