# Sourced by .ci/run: the real keyring backends the end-to-end tests in
# internal/keyringe2e drive (gnome-keyring in a D-Bus session, pass with
# gpg, keyctl as an unprivileged user), and that user.
need_apt=()
command -v gnome-keyring-daemon >/dev/null || need_apt+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need_apt+=(dbus dbus-daemon)
command -v secret-tool >/dev/null || need_apt+=(libsecret-tools)
command -v pass >/dev/null || need_apt+=(pass)
command -v gpg >/dev/null || need_apt+=(gnupg)
command -v gpg-agent >/dev/null || need_apt+=(gpg-agent)
command -v keyctl >/dev/null || need_apt+=(keyutils)
command -v setpriv >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt_update_once
  apt-get install -y -qq "${need_apt[@]}"
fi

# keyctl's per-user quota (20,000 bytes) applies only to non-root users:
# the tests run lanyard as this one (setpriv), so CI meets the limit users do.
if ! getent passwd lanyard-e2e >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin lanyard-e2e
fi
export LANYARD_E2E_USER=lanyard-e2e
