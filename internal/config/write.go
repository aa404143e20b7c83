package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// RefuseExisting fails when the profiles file at path already has a
// profile called name: writers add profiles, they never change one.
func RefuseExisting(path, name string) error {
	if !ValidProfileName(name) {
		return &Error{File: path, Msg: fmt.Sprintf("%q cannot be a profile name: use letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)", name)}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	names, err := ProfileNames(path)
	if err != nil {
		return &Error{File: path, Msg: "cannot be read to add a profile: " + err.Error() + "; fix it first (lanyard doctor)"}
	}
	if !slices.Contains(names, name) {
		return nil
	}
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "[profiles."+name+"]") || strings.HasPrefix(t, `[profiles."`+name+`"]`) {
			line = i + 1
			break
		}
	}
	return &Error{File: path, Line: line, Msg: fmt.Sprintf("profile %q already exists; lanyard init never changes it: edit it there (keys: docs/profiles.md), or choose another name with --name", name)}
}

// NewProfile is a profile to append to the profiles file: what lanyard
// init asked, a preset filled in, or what lanyard mcp registered.
type NewProfile struct {
	Name, Issuer, TokenURL, AuthURL, DeviceURL, Grant, ClientID, ClientAuth, Username string
	HasSecret                                                                         bool
	Scopes, Match                                                                     []string
	// WrittenBy names the command in the file's comment ("lanyard init").
	WrittenBy string
	// Note is a further comment line above the table (lanyard mcp: the
	// server and how the client was registered).
	Note string
	// RedirectURI, PKCE and Resource are the keys of the same names
	// (lanyard mcp: the loopback redirect, S256, the server's canonical URI).
	RedirectURI, PKCE string
	Resource          []string
}

// TOML renders s as a commented profile table.
func (s NewProfile) TOML(now time.Time) string {
	var b strings.Builder
	by := s.WrittenBy
	if by == "" {
		by = "lanyard init"
	}
	fmt.Fprintf(&b, "\n# Written by %s on %s. Every key: docs/profiles.md.\n", by, now.UTC().Format("2006-01-02"))
	for _, l := range strings.Split(s.Note, "\n") {
		if l != "" {
			fmt.Fprintf(&b, "# %s\n", l)
		}
	}
	fmt.Fprintf(&b, "[profiles.%s]\n", tomlKey(s.Name))
	if s.Issuer != "" {
		fmt.Fprintf(&b, "issuer = %s   # endpoints come from its discovery document\n", tomlString(s.Issuer))
	}
	if s.TokenURL != "" {
		fmt.Fprintf(&b, "token_url = %s\n", tomlString(s.TokenURL))
	}
	if s.AuthURL != "" {
		fmt.Fprintf(&b, "auth_url = %s\n", tomlString(s.AuthURL))
	}
	if s.DeviceURL != "" {
		fmt.Fprintf(&b, "device_auth_url = %s\n", tomlString(s.DeviceURL))
	}
	fmt.Fprintf(&b, "grant = %s\n", tomlString(s.Grant))
	fmt.Fprintf(&b, "client_id = %s\n", tomlString(s.ClientID))
	if s.HasSecret {
		fmt.Fprintf(&b, "client_secret = \"keyring\"   # change with: lanyard secret set %s client_secret\n", s.Name)
	}
	if s.ClientAuth != "basic" {
		fmt.Fprintf(&b, "client_auth = %s\n", tomlString(s.ClientAuth))
	}
	if s.RedirectURI != "" {
		fmt.Fprintf(&b, "redirect_uri = %s\n", tomlString(s.RedirectURI))
	}
	if s.PKCE != "" {
		fmt.Fprintf(&b, "pkce = %s\n", tomlString(s.PKCE))
	}
	if s.Username != "" {
		fmt.Fprintf(&b, "username = %s   # the password is asked at login, never stored\n", tomlString(s.Username))
	}
	if len(s.Scopes) > 0 {
		fmt.Fprintf(&b, "scopes = %s\n", tomlList(s.Scopes))
	}
	if len(s.Resource) > 0 {
		fmt.Fprintf(&b, "resource = %s   # RFC 8707: the server the tokens are for\n", tomlList(s.Resource))
	}
	switch {
	case len(s.Match) > 0:
		fmt.Fprintf(&b, "match = %s   # URLs this profile serves (git, docker, HTTPie)\n", tomlList(s.Match))
	case len(s.Resource) == 0:
		b.WriteString("# match = [\"https://git.example.com/\"]   # URLs this profile serves (git, docker, HTTPie)\n")
	}
	return b.String()
}

// AppendProfile adds s at the end of the profiles file (created
// 0600 if missing) after checking that the whole file still parses.
func AppendProfile(path string, s NewProfile) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	text := s.TOML(time.Now())
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		text = "\n" + text
	}
	if _, err := Parse(path, append(slices.Clip(old), text...)); err != nil {
		return fmt.Errorf("the new profile would not be valid, nothing was written: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func tomlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a JSON string is a TOML basic string
	return strings.TrimSuffix(b.String(), "\n")
}

func tomlKey(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return tomlString(s)
		}
	}
	return s
}

func tomlList(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
