package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CheckTrusted refuses, as ssh does with its keys and config, a file that
// lanyard loads code or secrets from (the profiles file, whose cmd:
// references run; a secret file; the serve key file) when another user
// could have written it: not owned by this user (or root), or writable by
// group or others. The error gives the chmod or chown to run; what names
// the file ("profiles file"). fi is the file's Stat.
func CheckTrusted(what, path string, fi os.FileInfo) error {
	uid, ok := fileOwner(fi)
	if !ok {
		return nil // Windows: ACLs, not owner and mode bits
	}
	if me := os.Geteuid(); uid != me && uid != 0 {
		return fmt.Errorf("%s %s is owned by uid %d, not by you (uid %d), so lanyard does not trust it; if it is yours, run: chown %d %s", what, path, uid, me, me, path)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s %s can be written by group or others (mode %04o), so lanyard does not trust it; run: chmod go-w %s", what, path, fi.Mode().Perm(), path)
	}
	return nil
}

// readTrusted reads path after checking, on the open file, that it is
// trusted (CheckTrusted), at most limit bytes.
func readTrusted(what, path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := CheckTrusted(what, path, fi); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// checkRefPath rejects file: and cmd: references that would resolve
// against the working directory: git runs helpers at the top of the
// repository, so a cloned repository could supply the file or command.
// file: takes an absolute path or ~/; cmd: a command name (looked up on
// PATH) or an absolute or ~/ path.
func checkRefPath(ref string) error {
	switch {
	case strings.HasPrefix(ref, "file:"):
		p := ref[5:]
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~/") {
			return fmt.Errorf("%q is a relative path, which would be read from whatever directory lanyard runs in (git runs it inside the repository); use an absolute path or ~/", ref)
		}
	case strings.HasPrefix(ref, "cmd:"):
		fields := strings.Fields(ref[4:])
		// Skip leading VAR=value assignments: sh -c runs the command after them.
		for len(fields) > 0 && isAssignment(fields[0]) {
			fields = fields[1:]
		}
		if len(fields) > 0 {
			c := fields[0]
			if strings.Contains(c, "/") && !filepath.IsAbs(c) && !strings.HasPrefix(c, "~/") {
				return fmt.Errorf("%q runs %s, a relative path, which would be found in whatever directory lanyard runs in (git runs it inside the repository); use an absolute path, ~/, or a command on PATH", ref, c)
			}
		}
	}
	return nil
}

// isAssignment reports a shell NAME=value word.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
