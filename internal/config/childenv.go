package config

import (
	"maps"
	"slices"
	"strings"

	"github.com/lanyardhq/lanyard/internal/env"
)

// NeverInherited are the variables no process lanyard starts receives:
// LANYARD_KEYRING_PASSPHRASE decrypts every secret of the file backend.
var NeverInherited = []string{env.PassphraseVar}

// ChildEnv builds the environment of a process lanyard starts (lanyard
// exec's command, a cmd: secret, lanyard-plugin-host and its plugins, the
// browser opener) from environ: everything the child may need (PATH, HOME,
// proxy settings, locale, the desktop session) except NeverInherited and
// the variables named in hide. It is the one place child environments are
// built.
func ChildEnv(environ []string, hide ...string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(NeverInherited, name) || slices.Contains(hide, name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// HiddenEnv returns the environment variables that other profiles' env:
// references point at (client_secret, private_key, tls_cert, tls_key,
// assertions, subject and actor tokens, plugin settings) and p's do not:
// p's cmd: secrets and plugins must not see another profile's secrets.
func (p *Profile) HiddenEnv() []string { return p.hiddenEnv }

// envRefs lists the variables p's env: references name.
func (p *Profile) envRefs() []string {
	var out []string
	add := func(v string) {
		if name, ok := strings.CutPrefix(v, "env:"); ok && name != "" {
			out = append(out, name)
		}
	}
	for _, v := range []string{p.ClientSecret, p.PrivateKey, p.TLSCert, p.TLSKey, p.ClientAssertion, p.Assertion, p.SubjectToken, p.ActorToken} {
		add(v)
	}
	for _, v := range p.Plugin {
		add(v)
	}
	return out
}

// processEnv are variables that change what a token request does for any
// profile: proxies, the trusted CAs, GitHub Actions' token service.
var processEnv = []string{
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
}

// EnvInputs lists the environment variables whose values change what a
// token request for p sends: p's env: references (secrets, assertions,
// subject tokens, plugin settings) and the process-wide ones (proxies,
// CAs, CI token services). The agent answers only callers that agree with
// it on these; others are answered in their own process.
func (p *Profile) EnvInputs() []string {
	return append(p.envRefs(), processEnv...)
}

// HiddenEnv returns the environment variables the profiles' and other
// tiers' env: references point at and s's do not.
func (s *SharedTier) HiddenEnv() []string { return s.hiddenEnv }

func (s *SharedTier) envRefs() []string {
	var out []string
	for _, v := range []string{s.Key, s.Password, s.SentinelPassword} {
		if name, ok := strings.CutPrefix(v, "env:"); ok && name != "" {
			out = append(out, name)
		}
	}
	return out
}

// hideOthersEnv sets every profile's and shared tier's hiddenEnv from the
// others' env: references (a team key is hidden from every profile).
func (f *File) hideOthersEnv() {
	var all [][]string
	for _, name := range f.Names() {
		all = append(all, f.Profiles[name].envRefs())
	}
	for _, name := range slices.Sorted(maps.Keys(f.Shared)) {
		all = append(all, f.Shared[name].envRefs())
	}
	hide := func(own []string) []string {
		var out []string
		for _, refs := range all {
			for _, v := range refs {
				if !slices.Contains(own, v) && !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
		}
		return out
	}
	for _, p := range f.Profiles {
		p.hiddenEnv = hide(p.envRefs())
	}
	for _, s := range f.Shared {
		s.hiddenEnv = hide(s.envRefs())
	}
}
