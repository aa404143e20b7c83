//go:build unix

package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckKeyFile: a private key file (private_key, tls_key) that group
// or others may read or write is refused, as ssh refuses one.
func TestCheckKeyFile(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o604, false}, {0o620, false}, {0o666, false}} {
		path := filepath.Join(t.TempDir(), "key.pem")
		if err := os.WriteFile(path, []byte("k"), tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		err := checkKeyFile(path)
		if (err == nil) != tc.ok {
			t.Errorf("mode %04o: got %v, want ok=%v", tc.mode, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: error %q does not say what to run", tc.mode, err)
		}
	}
}
