package gitconfig

import "testing"

func TestAtLeast(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{"git version 2.39.5", false},
		{"git version 2.45.9", false},
		{"git version 2.46.0", true},
		{"git version 2.47.3", true},
		{"git version 2.47.3.windows.1", true},
		{"git version 3.0.0", true},
		{"git version 2", false},
		{"", false},
		{"hub version 2.50", false},
	}
	for _, tt := range tests {
		if got := AtLeast(tt.out, 2, 46); got != tt.want {
			t.Errorf("AtLeast(%q, 2, 46) = %v, want %v", tt.out, got, tt.want)
		}
	}
}
