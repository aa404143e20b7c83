package config

import (
	"strings"

	"github.com/BurntSushi/toml"
)

// lineIndex finds the line of a key in a TOML document. BurntSushi/toml keeps
// key positions private, so a small scan of table headers and "key =" lines
// stands in; it only needs to be right for the files people write by hand.
type lineIndex []string

func newLineIndex(data []byte) lineIndex { return strings.Split(string(data), "\n") }

// find returns the 1-based line of key (a table or a key in a table), or 0.
func (l lineIndex) find(key toml.Key) int {
	if len(key) == 0 {
		return 0
	}
	// Compare unquoted, as normalizeKey leaves the file's keys:
	// profiles."my api" is profiles.my api on both sides.
	want := strings.Join(key, ".")
	table := ""
	for i, line := range l {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "[") {
			h := strings.Trim(s, "[] \t")
			if j := strings.Index(h, "#"); j >= 0 {
				h = strings.TrimSpace(strings.Trim(h[:j], "] \t"))
			}
			table = normalizeKey(h)
			if table == want {
				return i + 1
			}
			continue
		}
		k, _, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		full := normalizeKey(strings.TrimSpace(k))
		if table != "" {
			full = table + "." + full
		}
		if full == want {
			return i + 1
		}
	}
	// A key inside an inline table or a dotted sub-table: fall back to its parent.
	return l.find(key[:len(key)-1])
}

func normalizeKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}
