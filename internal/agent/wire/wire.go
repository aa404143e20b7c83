// Package wire holds the messages helpers and the lanyard agent exchange
// over the agent's unix socket (and over the stdin/stdout of
// `lanyard-engine agent oneshot`): one request, one response, each a 4-byte
// big-endian length followed by that many bytes of JSON.
//
// It is a leaf: the standard library only, so the thin helper binaries can
// import it without the engine.
package wire

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Hard caps on one message. A request carries a URL and a few names; a
// response one token (JWTs of tens of KiB exist) or the agent's status.
const (
	MaxRequest  = 64 << 10
	MaxResponse = 1 << 20
)

// Operations a Request may name.
const (
	OpGet    = "get"    // a token for the tool's request
	OpErase  = "erase"  // drop the cached access token the server refused
	OpForget = "forget" // drop the agent's in-memory state (after lanyard logout)
	OpStatus = "status" // the agent's state, for lanyard status
	OpPing   = "ping"   // is an agent there
	OpStop   = "stop"   // exit (lanyard agent stop)
	// OpMetrics: the agent's counters, Prometheus text format, in
	// Response.Metrics (lanyard agent metrics).
	OpMetrics = "metrics"
)

// Tools a Request may name: they pick how the agent chooses the profile.
const (
	ToolToken   = "token"   // lanyard token PROFILE [--url URL]
	ToolGit     = "git"     // git-credential-lanyard
	ToolDocker  = "docker"  // docker-credential-lanyard
	ToolKubectl = "kubectl" // kubectl-lanyard get-token
	// ToolCargo and ToolTerraform pick the profile by match against the
	// registry's index URL (cargo) or https://HOST/ (Terraform), as git
	// does for an unpinned helper.
	ToolCargo     = "cargo"     // cargo-credential-lanyard
	ToolTerraform = "terraform" // terraform-credentials-lanyard
	ToolGoauth    = "goauth"    // lanyard goauth (GOAUTH), picked by match as unpinned git
	ToolPip       = "pip"       // lanyard pip-credential (keyrings.lanyard), picked by match as unpinned git
	ToolMCP       = "mcp"       // lanyard mcp URL --profile P
	ToolProxy     = "proxy"     // lanyard proxy: a profile it picked, for URL (as token with --url)
)

// KubeClusterExtension is the kubeconfig cluster extension client-go hands
// to exec plugins as spec.cluster.config; its "profile" key travels as
// Request.ClusterProfile.
const KubeClusterExtension = "client.authentication.k8s.io/exec"

// Response statuses.
const (
	StatusOK            = "ok"
	StatusNoMatch       = "no_match"       // no profile serves the request
	StatusLoginRequired = "login_required" // a person must log in; Message names the command
	StatusBadConfig     = "bad_config"     // the profiles file or a profile name is wrong; Message says where
	StatusError         = "error"          // Message says what to change
	// StatusOtherConfig: the caller reads another profiles file than the
	// agent (Request.Config); the helper answers in-process instead.
	StatusOtherConfig = "other_config"
)

// Request is what a helper asks.
type Request struct {
	Op   string `json:"op"`
	Tool string `json:"tool,omitempty"`
	// Profile is a pinned profile name (git --profile, kubectl --profile,
	// lanyard token PROFILE); empty means "pick by URL".
	Profile string `json:"profile,omitempty"`
	// URL is what the tool asked for: git's protocol://host[/path] exactly
	// as git gave it, docker's server URL, kubectl's spec.cluster.server,
	// or for token the URL the token will be sent to (optional; when set,
	// the agent answers only if the profile's match covers it).
	URL string `json:"url,omitempty"`
	// Candidates are the URLs to match, best first, when the tool's address
	// is not one URL (docker: helpers/docker ServerURLs).
	Candidates []string `json:"candidates,omitempty"`
	// ClusterProfile is kubectl's spec.cluster.config.profile.
	ClusterProfile string `json:"cluster_profile,omitempty"`
	// Use overrides the profile's use key (kubectl get-token --use).
	Use string `json:"use,omitempty"`
	// MinTTL asks for a token valid at least this long.
	MinTTL time.Duration `json:"min_ttl,omitempty"`
	// ForceRefresh ignores the cached access token.
	ForceRefresh bool `json:"force_refresh,omitempty"`
	// Rejected is Fingerprint of a token a server refused: it is dropped
	// only if it is still the current one, so a newer token another caller
	// fetched meanwhile stays.
	Rejected string `json:"rejected,omitempty"`
	// IssuedBy, on erase, is the profile the tool says issued the refused
	// credential (git's state[]); when it is not the profile serving the
	// URL, nothing is dropped.
	IssuedBy string `json:"issued_by,omitempty"`
	// Interactive says the caller may run a login (a terminal, kubectl's
	// spec.interactive). The agent never logs in; it answers
	// login_required and the helper runs the login itself.
	Interactive bool `json:"interactive,omitempty"`
	// BrowserLogin asks the agent to run the profile's browser login
	// itself when no token can be had: the caller has no terminal but a
	// desktop (git run by an IDE). One login serves every caller waiting
	// for the profile; each waits at most the profile's login_timeout.
	// Browser is the caller's $BROWSER (VS Code sets it per session).
	BrowserLogin bool   `json:"browser_login,omitempty"`
	Browser      string `json:"browser,omitempty"`
	// Config is the profiles file the caller's environment names
	// (env.Env.ConfigPath). The agent's main socket answers get and
	// erase only for its own file, so a caller with another LANYARD_CONFIG
	// never gets a token of a profile it did not define. Forwarding sockets
	// ignore it: their callers have no profiles file.
	Config string `json:"config,omitempty"`
	// Resource is the RFC 8707 resource indicator (lanyard mcp: the MCP
	// server's canonical URI) sent on token requests when the profile sets
	// no resource of its own.
	Resource string `json:"resource,omitempty"`
	// Only is set by a forwarding socket (lanyard agent forward): the
	// profiles it serves. The others do not exist for its clients.
	Only []string `json:"only,omitempty"`
}

// Response is the agent's answer.
type Response struct {
	Status    string    `json:"status"`
	Token     string    `json:"token,omitempty"`
	TokenType string    `json:"token_type,omitempty"`
	Expiry    time.Time `json:"expiry,omitzero"`
	Profile   string    `json:"profile,omitempty"`
	// The profile's tool settings the helper needs to format its answer;
	// empty means the tool's default.
	GitUsername    string `json:"git_username,omitempty"`
	GitAuth        string `json:"git_auth,omitempty"`
	DockerUsername string `json:"docker_username,omitempty"`
	CargoAuth      string `json:"cargo_auth,omitempty"`
	PipUsername    string `json:"pip_username,omitempty"`
	// Prefix is the URL prefix the token serves, for tools that cache a
	// credential by prefix (GOAUTH): the request URL's scheme and host with
	// the path of the profile's match prefix that served it.
	Prefix string `json:"prefix,omitempty"`
	// Source is where the profile is defined (FILE:LINE), for messages
	// that tell the user what to change.
	Source string `json:"source,omitempty"`
	// Dropped, in an answer to erase, says the refused token was the
	// profile's current one and is gone.
	Dropped bool `json:"dropped,omitempty"`
	// EnvNames and EnvDigest, in a token answer, are the variables the
	// agent minted with (config.Profile.EnvInputs) and EnvDigest of their
	// values in the agent: a caller whose own values differ (another CI
	// job's secret, another proxy) discards the answer and asks in its own
	// process.
	EnvNames  []string `json:"env_names,omitempty"`
	EnvDigest string   `json:"env_digest,omitempty"`
	// Message is a user-facing text for login_required and error (ending
	// "run: lanyard login P" where that is the fix).
	Message string `json:"message,omitempty"`
	// Metrics answers OpMetrics.
	Metrics string `json:"metrics,omitempty"`
	// Agent is set in answers to status and ping.
	Agent *AgentStatus `json:"agent,omitempty"`
}

// AgentStatus describes a running agent.
type AgentStatus struct {
	PID      int             `json:"pid"`
	Started  time.Time       `json:"started"`
	Socket   string          `json:"socket"`
	Profiles []ProfileStatus `json:"profiles,omitempty"`
	// Only is set on a forwarding socket: the profiles it serves.
	Only []string `json:"only,omitempty"`
	// Refused counts connections turned away: another uid, or too many
	// at once.
	Refused int64 `json:"refused,omitempty"`
	// Uses counts the get requests this socket answered.
	Uses int64 `json:"uses,omitempty"`
	// AuditFailures counts audit events that could not be written;
	// AuditError says why the last one failed.
	AuditFailures int64  `json:"audit_failures,omitempty"`
	AuditError    string `json:"audit_error,omitempty"`
}

// ProfileStatus is one profile's in-memory state in the agent.
type ProfileStatus struct {
	Name        string    `json:"name"`
	InMemory    bool      `json:"in_memory"`
	Expiry      time.Time `json:"expiry,omitzero"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	NextRefresh time.Time `json:"next_refresh,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// Resolver answers requests: the agent client (socket, or a oneshot child)
// and the in-process handler used by tests are its two implementations.
type Resolver interface {
	Resolve(ctx context.Context, req *Request) (*Response, error)
}

// ErrTooLarge means a message's length prefix exceeds the cap.
var ErrTooLarge = errors.New("agent message too large")

// EnvDigest names the values of the variables names in an environment
// (getenv), so that an agent and its caller can tell whether they agree
// on them without sending the values: a truncated SHA-256 of each
// name=value line, names in the given order. Unset and empty are the
// same.
func EnvDigest(getenv func(string) string, names []string) string {
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{'='})
		h.Write([]byte(getenv(n)))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Fingerprint is how a token is named on the wire when only its identity
// matters (Request.Rejected): hex SHA-256.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// WriteRequest sends req.
func WriteRequest(w io.Writer, req *Request) error { return write(w, req, MaxRequest) }

// WriteResponse sends resp.
func WriteResponse(w io.Writer, resp *Response) error { return write(w, resp, MaxResponse) }

// ReadRequest reads one request, refusing more than MaxRequest bytes.
func ReadRequest(r io.Reader) (*Request, error) {
	var req Request
	if err := read(r, &req, MaxRequest); err != nil {
		return nil, err
	}
	if req.Op == "" {
		return nil, errors.New("agent request without op")
	}
	return &req, nil
}

// ReadResponse reads one response, refusing more than MaxResponse bytes.
func ReadResponse(r io.Reader) (*Response, error) {
	var resp Response
	if err := read(r, &resp, MaxResponse); err != nil {
		return nil, err
	}
	if resp.Status == "" {
		return nil, errors.New("agent response without status")
	}
	return &resp, nil
}

func write(w io.Writer, v any, limit int) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(body) > limit {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(body), limit)
	}
	buf := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	_, err = w.Write(append(buf, body...))
	return err
}

func read(r io.Reader, v any, limit int) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > uint32(limit) {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed agent message: %w", err)
	}
	return nil
}
