package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// AddScopes adds scopes to the scopes key of one profile in the profiles
// file at path, and returns the ones it added (none when the profile
// already asks for all). It changes that one line (or inserts it after the
// profile's table header), leaves every other byte as it was, checks that
// the result parses to the same profiles with only those scopes added, and
// replaces the file in one rename. A scopes value it cannot edit safely (a
// list over several lines, a dotted or inline table) is refused with the
// file and line to edit by hand.
func AddScopes(path, name string, scopes []string) ([]string, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // edit the file a symlink points to, keep the link
	}
	for range 3 {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out, added, err := addScopes(path, data, name, scopes)
		if err != nil || len(added) == 0 {
			return nil, err
		}
		// Another writer since the read: start again from its version.
		if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, data) {
			continue
		}
		if err := replaceFile(path, out); err != nil {
			return nil, err
		}
		return added, nil
	}
	return nil, &Error{File: path, Msg: "kept changing while lanyard added scopes to profile " + name + "; try again"}
}

// addScopes is AddScopes on the file's text.
func addScopes(path string, data []byte, name string, scopes []string) ([]byte, []string, error) {
	f, err := Parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	p := f.Profiles[name]
	if p == nil {
		return nil, nil, &Error{File: path, Msg: fmt.Sprintf("profile %q not found", name)}
	}
	var added []string
	for _, s := range scopes {
		if s != "" && !slices.Contains(p.Scopes, s) && !slices.Contains(added, s) {
			added = append(added, s)
		}
	}
	if len(added) == 0 {
		return data, nil, nil
	}
	want := append(slices.Clip(p.Scopes), added...)
	handEdit := func(line int, why string) error {
		return &Error{File: path, Line: line, Key: "profiles." + name + ".scopes",
			Msg: fmt.Sprintf("%s, so lanyard did not change it; add %s to the profile's scopes there", why, tomlList(added))}
	}
	lines := strings.Split(string(data), "\n")
	header := p.Line - 1
	if header < 0 || header >= len(lines) || normalizeKey(strings.Trim(stripComment(lines[header]), "[] \t")) != "profiles."+name {
		return nil, nil, handEdit(p.Line, "the profile is not a [profiles."+name+"] table")
	}
	at := -1
	for i := header + 1; i < len(lines); i++ {
		s := strings.TrimSpace(lines[i])
		if strings.HasPrefix(s, "[") {
			break // the next table (or a sub-table of this one)
		}
		if k, _, ok := strings.Cut(s, "="); ok && normalizeKey(strings.TrimSpace(k)) == "scopes" {
			at = i
		}
	}
	newLine := "scopes = " + tomlList(want)
	if at < 0 {
		if len(p.Scopes) > 0 {
			return nil, nil, handEdit(p.Line, "its scopes are not a scopes = [...] line of its table")
		}
		lines = slices.Insert(lines, header+1, newLine)
	} else {
		line := lines[at]
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		_, value, _ := strings.Cut(line, "=")
		value = strings.TrimSpace(value)
		closeAt := strings.LastIndex(value, "]")
		if !strings.HasPrefix(value, "[") || closeAt < 0 {
			return nil, nil, handEdit(at+1, "its scopes list spans several lines")
		}
		rest := strings.TrimSpace(value[closeAt+1:])
		if rest != "" && !strings.HasPrefix(rest, "#") {
			return nil, nil, handEdit(at+1, "its scopes line holds more than the list")
		}
		if rest != "" {
			newLine += "   " + rest
		}
		lines[at] = indent + newLine
	}
	out := []byte(strings.Join(lines, "\n"))
	g, err := Parse(path, out)
	if err != nil {
		return nil, nil, handEdit(p.Line, "the edited file would not be valid ("+err.Error()+")")
	}
	if err := sameBut(f, g, name, want); err != nil {
		return nil, nil, handEdit(p.Line, err.Error())
	}
	return out, added, nil
}

// sameBut checks that g holds the profiles of f, each meaning the same
// (CacheKey), except that profile name has the scopes want.
func sameBut(f, g *File, name string, want []string) error {
	if len(f.Profiles) != len(g.Profiles) || len(f.Shared) != len(g.Shared) {
		return fmt.Errorf("the edit would change which profiles the file holds")
	}
	for n, p := range f.Profiles {
		q := g.Profiles[n]
		if q == nil {
			return fmt.Errorf("the edit would lose profile %q", n)
		}
		if n == name {
			cp := *p
			cp.Scopes = want
			p = &cp
			if !slices.Equal(q.Scopes, want) {
				return fmt.Errorf("the edit would not give it the scopes %s", tomlList(want))
			}
		}
		if p.CacheKey() != q.CacheKey() {
			return fmt.Errorf("the edit would change profile %q", n)
		}
	}
	return nil
}

func stripComment(s string) string {
	if i := strings.Index(s, "#"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// replaceFile writes data to a new file beside path and renames it over
// path, keeping path's permissions: a reader sees the old file or the new.
func replaceFile(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config.toml.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
