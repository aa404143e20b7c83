package config

import (
	"slices"
	"strings"
)

// NeverInherited are the variables no process lanyard starts receives:
// LANYARD_KEYRING_PASSPHRASE decrypts every secret of the file backend.
var NeverInherited = []string{"LANYARD_KEYRING_PASSPHRASE"}

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

// hideOthersEnv sets every profile's hiddenEnv from the others' env: references.
func (f *File) hideOthersEnv() {
	for _, p := range f.Profiles {
		own := p.envRefs()
		var hide []string
		for _, name := range f.Names() {
			for _, v := range f.Profiles[name].envRefs() {
				if !slices.Contains(own, v) && !slices.Contains(hide, v) {
					hide = append(hide, v)
				}
			}
		}
		p.hiddenEnv = hide
	}
}
