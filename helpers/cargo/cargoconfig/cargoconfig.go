// Package cargoconfig edits cargo's $CARGO_HOME/config.toml for lanyard
// setup cargo: one registry's credential-provider, the rest of the file
// (comments, order, other registries and providers) kept byte for byte.
package cargoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/lanyardhq/lanyard/internal/atomicfile"
)

// Path returns cargo's user configuration file: $CARGO_HOME/config.toml,
// default ~/.cargo/config.toml. An existing legacy ~/.cargo/config (no
// extension) is used when config.toml does not exist, as cargo does.
func Path(getenv func(string) string) (string, error) {
	home := getenv("CARGO_HOME")
	if home == "" {
		h := getenv("HOME")
		if h == "" {
			var err error
			if h, err = os.UserHomeDir(); err != nil {
				return "", fmt.Errorf("cannot find cargo's home: set CARGO_HOME: %w", err)
			}
		}
		home = filepath.Join(h, ".cargo")
	}
	p := filepath.Join(home, "config.toml")
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(home, "config")); err == nil {
			return filepath.Join(home, "config"), nil
		}
	}
	return p, nil
}

// Change says what SetProvider did.
type Change struct {
	Path    string
	Changed bool
	Created bool
	// Was is the provider the registry had before ("" for none).
	Was string
	// Line is the line written.
	Line string
}

// ErrOtherProvider is returned when the registry already names another
// provider and replace is false.
var ErrOtherProvider = errors.New("the registry has another credential provider")

// SetProvider makes [registries.NAME] credential-provider = provider in the
// file at path. It changes nothing when the value is already set, and
// refuses to replace another provider unless replace is set.
func SetProvider(path, registry string, provider []string, replace bool) (Change, error) {
	ch := Change{Path: path}
	if !validName.MatchString(registry) {
		return ch, fmt.Errorf("registry name %q is not one cargo accepts (letters, digits, - and _)", registry)
	}
	ch.Line = "credential-provider = " + tomlArray(provider)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		ch.Created, ch.Changed = true, true
		body := fmt.Sprintf("[registries.%s]\n%s\n", registry, ch.Line)
		return ch, write(path, []byte(body))
	}
	if err != nil {
		return ch, err
	}
	var doc struct {
		Registries map[string]map[string]any `toml:"registries"`
	}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return ch, fmt.Errorf("%s: %w; fix it first (cargo cannot read it either)", path, err)
	}
	reg, defined := doc.Registries[registry]
	if cur, ok := reg["credential-provider"]; ok {
		if ch.Was = providerString(cur); ch.Was == strings.Join(provider, " ") {
			return ch, nil
		}
		if !replace {
			return ch, fmt.Errorf("%w: %s sets registries.%s.credential-provider = %s; pass --replace to put lanyard there instead (cargo asks one provider per registry)", ErrOtherProvider, path, registry, ch.Was)
		}
	}
	lines := strings.SplitAfter(string(data), "\n")
	header := -1
	for i, l := range lines {
		if m := headerRE.FindStringSubmatch(l); m != nil && unquote(m[1]) == registry {
			header = i
			break
		}
	}
	var out []string
	switch {
	case header >= 0:
		end := len(lines)
		for i := header + 1; i < len(lines); i++ {
			if anyHeaderRE.MatchString(lines[i]) {
				end = i
				break
			}
		}
		replaced := false
		out = append(out, lines[:header+1]...)
		for _, l := range lines[header+1 : end] {
			if keyRE.MatchString(l) && !replaced {
				out = append(out, ch.Line+"\n")
				replaced = true
				continue
			}
			out = append(out, l)
		}
		if !replaced {
			out = append(lines[:header+1:header+1], append([]string{ch.Line + "\n"}, lines[header+1:end]...)...)
		}
		out = append(out, lines[end:]...)
	case defined:
		return ch, fmt.Errorf("%s defines registry %q without a [registries.%s] table (dotted keys or an inline table); add %s to it by hand", path, registry, registry, ch.Line)
	default:
		body := string(data)
		if body != "" && !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		out = []string{body, fmt.Sprintf("\n[registries.%s]\n%s\n", registry, ch.Line)}
	}
	result := strings.Join(out, "")
	// The edit must give what was asked, and leave a file cargo reads.
	var check struct {
		Registries map[string]map[string]any `toml:"registries"`
	}
	if _, err := toml.Decode(result, &check); err != nil || providerString(check.Registries[registry]["credential-provider"]) != strings.Join(provider, " ") {
		return ch, fmt.Errorf("%s: could not set registries.%s.credential-provider in this file's layout (a multi-line value?); set it by hand: %s", path, registry, ch.Line)
	}
	ch.Changed = true
	return ch, write(path, []byte(result))
}

var (
	validName   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	headerRE    = regexp.MustCompile(`^\s*\[\s*registries\s*\.\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*\]\s*(#.*)?\r?\n?$`)
	anyHeaderRE = regexp.MustCompile(`^\s*\[`)
	keyRE       = regexp.MustCompile(`^\s*("credential-provider"|'credential-provider'|credential-provider)\s*=`)
)

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// providerString shows a credential-provider value (a string or an array
// of strings) as cargo reads it: words separated by spaces.
func providerString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var w []string
		for _, x := range v {
			w = append(w, fmt.Sprint(x))
		}
		return strings.Join(w, " ")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func tomlArray(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func write(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return atomicfile.Write(path, data, mode)
}
