// Package docker implements docker-credential-lanyard, a credential helper
// for docker, crane, skopeo, buildah and everything else that speaks the
// docker-credential-helpers protocol: the verb is the only argument, the
// request is on stdin, the answer (or the error) is on stdout.
//
// The wire follows github.com/docker/docker-credential-helpers'
// credentials package (v0.9.3) exactly, down to the error texts clients
// compare (see ErrCredentialsNotFound).
package docker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Verbs (docker-credential-helpers calls them actions).
const (
	ActionStore   = "store"
	ActionGet     = "get"
	ActionErase   = "erase"
	ActionList    = "list"
	ActionVersion = "version"
)

// Name is the helper's binary name; docker finds it as docker-credential-
// plus the credHelpers value ("lanyard").
const Name = "docker-credential-lanyard"

// Package is printed by version, as docker-credential-helpers prints its own.
const Package = "github.com/lanyardhq/lanyard"

// DefaultUsername is what get returns as Username unless the profile sets
// docker_username. Registries behind OAuth proxies (Google's among them)
// take any username with an access token as password; "<token>" must never
// be used, since docker reads it as an identity (refresh) token.
const DefaultUsername = "oauth2accesstoken"

// IdentityTokenUsername is docker's marker for an identity token: a
// Credentials with this Username carries a registry refresh token.
const IdentityTokenUsername = "<token>"

// Protocol error texts. Clients compare them after trimming space (docker's
// credentials.IsErrCredentialsNotFoundMessage and friends), so they must not
// change by a character, and each is written once, here.
const (
	credentialsNotFoundMessage = "credentials not found in native keychain"
	missingServerURLMessage    = "no credentials server URL"
	missingUsernameMessage     = "no credentials username"
)

// protocolError is an error whose text clients match.
type protocolError string

func (e protocolError) Error() string { return string(e) }

// Errors clients recognise by their text.
var (
	// ErrCredentialsNotFound answers get (and erase) for a server no
	// profile serves: the client then goes on anonymously or asks the next
	// helper.
	ErrCredentialsNotFound error = protocolError(credentialsNotFoundMessage)
	// ErrMissingServerURL: the request carried no server URL.
	ErrMissingServerURL error = protocolError(missingServerURLMessage)
	// ErrMissingUsername: store got credentials without a username.
	ErrMissingUsername error = protocolError(missingUsernameMessage)
)

// IsCredentialsNotFound reports whether err, or the text a helper printed
// (as an error made with errors.New), is the not-found answer.
func IsCredentialsNotFound(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, ErrCredentialsNotFound) || strings.TrimSpace(err.Error()) == credentialsNotFoundMessage
}

// Credentials is the JSON object of store's request and get's answer.
// Field names are docker's, capitalised; decoding is case-insensitive as
// encoding/json is.
type Credentials struct {
	ServerURL string
	Username  string
	Secret    string
}

// MaxInput bounds what the helper reads from stdin: a server URL or one
// small JSON object never comes near it.
const MaxInput = 1 << 20

// readLines joins the lines of in without their line ends, as
// docker-credential-helpers' bufio.Scanner loop does (a line longer than
// 64 KiB is an error there too).
func readLines(in []byte) ([]byte, error) {
	sc := bufio.NewScanner(bytes.NewReader(in))
	var buf bytes.Buffer
	for sc.Scan() {
		buf.Write(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("could not read the request on stdin: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseServerURL reads the request of get and erase: the server URL on
// stdin, lines joined, surrounding space trimmed. An empty one is
// ErrMissingServerURL.
func ParseServerURL(in []byte) (string, error) {
	b, err := readLines(in)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", ErrMissingServerURL
	}
	return s, nil
}

// ParseCredentials reads store's request: one JSON Credentials object
// (anything after it is ignored, as json.Decoder does upstream). ServerURL
// and Username must be set.
func ParseCredentials(in []byte) (*Credentials, error) {
	b, err := readLines(in)
	if err != nil {
		return nil, err
	}
	var c Credentials
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&c); err != nil {
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, errors.New(`store needs credentials on stdin as JSON {"ServerURL","Username","Secret"}; got nothing`)
		}
		return nil, fmt.Errorf(`could not parse the credentials on stdin as JSON {"ServerURL","Username","Secret"}: %w`, err)
	}
	if c.ServerURL == "" {
		return nil, ErrMissingServerURL
	}
	if c.Username == "" {
		return nil, ErrMissingUsername
	}
	return &c, nil
}

// FormatCredentials is get's answer: the JSON object and a newline, as
// json.Encoder writes it upstream.
func FormatCredentials(c Credentials) []byte {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(c) // three strings: cannot fail
	return buf.Bytes()
}

// FormatList is list's answer: server URL -> username, keys sorted.
func FormatList(m map[string]string) []byte {
	if m == nil {
		m = map[string]string{}
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(m)
	return buf.Bytes()
}

// FormatVersion is version's answer, in docker-credential-helpers' layout
// "NAME (PACKAGE) VERSION".
func FormatVersion(version string) []byte {
	return fmt.Appendf(nil, "%s (%s) %s\n", Name, Package, version)
}

// Usage is printed for a missing verb or --help.
func Usage() string {
	return fmt.Sprintf("Usage: %s <store|get|erase|list|version>", Name)
}

// unknownActionError is upstream's text for a verb it does not know.
func unknownActionError(action string) error {
	return fmt.Errorf("%s: unknown action: %s", Name, action)
}

// DockerHubKey is the server address docker and go-containerregistry use
// for Docker Hub, for historical reasons.
const DockerHubKey = "https://index.docker.io/v1/"

// dockerHubHosts are the names docker treats as Docker Hub's registry.
var dockerHubHosts = map[string]bool{"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true}

// ServerURLs turns a server address as registry clients send it into the
// URLs to match profiles against, best first:
//
//   - a bare host, "registry.example.com" or "127.0.0.1:5000" (docker's
//     credHelpers lookups, skopeo): https://HOST, then http://HOST for
//     registries that profiles list with plain http;
//   - host and repository path, "registry.example.com/team/app"
//     (go-containerregistry asks for this before the bare host): the same
//     with the path, so a profile matching https://registry.example.com/team/
//     serves it;
//   - a full URL, "https://index.docker.io/v1/" (docker login, Docker Hub's
//     key): only its own scheme. A lone /v1/ or /v2/ path is docker's API
//     version, not a repository, and is dropped.
//
// An address with userinfo, a query or a fragment is refused (nil).
// Docker Hub's names (docker.io, registry-1.docker.io) become
// index.docker.io. Hosts are lower case and lose the scheme's default port.
// nil means the address is not a registry URL; the helper then answers
// not-found.
func ServerURLs(server string) []string {
	server = strings.TrimSpace(server)
	if server == "" || strings.ContainsFunc(server, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil
	}
	// A registry address has no userinfo, query or fragment, and parsers
	// disagree on where the host is around them
	// (https://registry.example.com@evil.example, evil.example#@registry...):
	// refuse rather than pick one reading.
	if strings.ContainsAny(server, "@#?") {
		return nil
	}
	schemes := []string{"https", "http"}
	rest := server
	if scheme, after, ok := strings.Cut(server, "://"); ok {
		scheme = strings.ToLower(scheme)
		if scheme != "https" && scheme != "http" {
			return nil
		}
		schemes, rest = []string{scheme}, after
	}
	u, err := url.Parse("https://" + rest)
	if err != nil || u.Hostname() == "" || u.Opaque != "" {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if dockerHubHosts[host] {
		host = "index.docker.io"
	}
	var segs []string
	for s := range strings.SplitSeq(u.Path, "/") {
		switch s {
		case "":
		case ".", "..":
			return nil // not in a repository name; never let it climb into another profile's prefix
		default:
			segs = append(segs, s)
		}
	}
	if len(schemes) == 1 && len(segs) == 1 && (segs[0] == "v1" || segs[0] == "v2") {
		segs = nil // https://index.docker.io/v1/, https://HOST/v2/
	}
	path := ""
	if len(segs) > 0 {
		path = "/" + strings.Join(segs, "/")
	}
	out := make([]string, 0, len(schemes))
	for _, scheme := range schemes {
		h := host
		if port := u.Port(); port != "" && port != defaultPort[scheme] {
			h = net.JoinHostPort(strings.Trim(host, "[]"), port)
		}
		// url.URL escapes what the path decoded to ("%3F" stays a
		// character of the path, not the start of a query).
		out = append(out, (&url.URL{Scheme: scheme, Host: h, Path: path}).String())
	}
	return out
}

var defaultPort = map[string]string{"https": "443", "http": "80"}

// ServerKey is the server address docker uses for a profile's match
// prefix: "HOST[:PORT][/PATH]", or Docker Hub's historical key. It is what
// list reports and what lanyard setup docker writes into credHelpers.
func ServerKey(match string) (string, bool) {
	urls := ServerURLs(match)
	if len(urls) != 1 {
		return "", false // match prefixes always carry their scheme
	}
	u, err := url.Parse(urls[0])
	if err != nil {
		return "", false
	}
	if u.Host == "index.docker.io" && strings.Trim(u.Path, "/") == "" {
		return DockerHubKey, true
	}
	return u.Host + strings.TrimSuffix(u.Path, "/"), true
}
