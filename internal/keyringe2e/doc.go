// Package keyringe2e holds lanyard's end-to-end tests on real keyring
// backends, each in a throw-away user environment: secret-service
// (gnome-keyring unlocked in its own D-Bus session), pass (a gpg key made in
// batch mode), keyctl (run as an unprivileged user, so the kernel's
// 20,000-byte quota applies) and the encrypted file backend. It has no
// code besides its tests; .ci/install.d/20-keyrings.sh installs the tools.
package keyringe2e
