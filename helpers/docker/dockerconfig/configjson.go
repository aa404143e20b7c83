package dockerconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/lanyardhq/lanyard/helpers/docker"
	"github.com/lanyardhq/lanyard/internal/atomicfile"
	"github.com/lanyardhq/lanyard/internal/config"
)

// HelperName is the credHelpers value that makes clients run
// docker-credential-lanyard.
const HelperName = "lanyard"

// ConfigPath returns docker's config file: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json. crane and skopeo read the same file.
func ConfigPath(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	return filepath.Join(getenv("HOME"), ".docker", "config.json")
}

// Resolve picks the profile that serves a server address as registry
// clients send it (see [docker.ServerURLs]), or nil.
func Resolve(cfg *config.File, server string) *config.Profile {
	for _, u := range docker.ServerURLs(server) {
		if p := cfg.Match(u); p != nil {
			return p
		}
	}
	return nil
}

// CredHelperKey is the credHelpers key for a registry given as a host,
// host:port, URL or match prefix. Clients look helpers up by registry host
// (port included), and Docker Hub by its historical key; a repository path
// plays no part.
func CredHelperKey(registry string) (string, error) {
	urls := docker.ServerURLs(registry)
	if len(urls) == 0 {
		return "", fmt.Errorf("%q is not a registry host; use e.g. registry.example.com or 127.0.0.1:5000", registry)
	}
	u, err := url.Parse(urls[0])
	if err != nil {
		return "", fmt.Errorf("%q is not a registry host: %w", registry, err)
	}
	if u.Host == "index.docker.io" {
		return docker.DockerHubKey, nil
	}
	return u.Host, nil
}

// CredHelperChange says what [SetCredHelper] did.
type CredHelperChange struct {
	Path    string
	Key     string
	Created bool   // the file did not exist
	Changed bool   // the file was written
	Was     string // the previous credHelpers value for Key, if any
	// StaleAuth: auths also holds credentials for Key from an earlier
	// docker login, which credHelpers now overrides.
	StaleAuth bool
}

// member is one key of a JSON object, in file order.
type member struct {
	key   string
	value json.RawMessage
}

// SetCredHelper makes credHelpers[key] = helper in the docker config file
// at path, creating the file (0600, directory 0700) if needed. Every other
// key stays, in its order, with its value as written; only whitespace is
// re-indented, with tabs as docker writes it. When the entry is already
// there the file is not touched. The write is atomic (a temporary file
// renamed over the real one, through a symlink if path is one).
func SetCredHelper(path, key, helper string) (*CredHelperChange, error) {
	ch := &CredHelperChange{Path: path, Key: key}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	mode := fs.FileMode(0o600)
	data, err := os.ReadFile(target)
	switch {
	case errors.Is(err, os.ErrNotExist):
		ch.Created = true
	case err != nil:
		return nil, fmt.Errorf("could not read docker config: %w", err)
	default:
		if fi, err := os.Stat(target); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	var top []member
	if len(bytes.TrimSpace(data)) > 0 {
		if top, err = decodeObject(data); err != nil {
			return nil, fmt.Errorf("%s is not a JSON object (%w); fix it or move it away, then run this again", path, err)
		}
	}
	helpers, at := []member(nil), -1
	for i, m := range top {
		if m.key == "credHelpers" {
			at = i
		}
	}
	if at >= 0 && string(bytes.TrimSpace(top[at].value)) != "null" {
		if helpers, err = decodeObject(top[at].value); err != nil {
			return nil, fmt.Errorf("%s: credHelpers is not a JSON object (%w); fix it, then run this again", path, err)
		}
	}
	for _, m := range top {
		if m.key == "auths" {
			if auths, err := decodeObject(m.value); err == nil {
				for _, a := range auths {
					ch.StaleAuth = ch.StaleAuth || a.key == key
				}
			}
		}
	}
	want, _ := json.Marshal(helper)
	found := false
	for i, m := range helpers {
		if m.key != key {
			continue
		}
		found = true
		var was string
		if json.Unmarshal(m.value, &was) != nil {
			was = string(m.value) // not a string: show it as written
		}
		if was == helper {
			return ch, nil // already set: leave the file alone
		}
		ch.Was = was
		helpers[i].value = want
	}
	if !found {
		helpers = append(helpers, member{key: key, value: want})
	}
	value := encodeObject(helpers)
	if at >= 0 {
		top[at].value = value
	} else {
		top = append(top, member{key: "credHelpers", value: value})
	}
	var out bytes.Buffer
	if err := json.Indent(&out, encodeObject(top), "", "\t"); err != nil {
		return nil, fmt.Errorf("could not encode docker config: %w", err)
	}
	out.WriteByte('\n')
	if err := writeAtomic(target, out.Bytes(), mode); err != nil {
		return nil, err
	}
	ch.Changed = true
	return ch, nil
}

// decodeObject reads a JSON object's members in order, values verbatim.
func decodeObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		ms = append(ms, member{key: k, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the closing brace")
	}
	return ms, nil
}

func encodeObject(ms []member) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("could not create %s: %w", dir, err)
	}
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("could not write docker config: %w", err)
	}
	return nil
}
