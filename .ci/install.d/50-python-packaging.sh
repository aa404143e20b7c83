# Sourced by .ci/run: Debian's pip, keyring (the library and its `keyring`
# command) and twine, for helpers/pykeyring's end-to-end tests. The image's
# own pip (pyenv) is used as it is.
need_apt=()
[ -x /usr/bin/keyring ] || need_apt+=(python3-keyring)
[ -x /usr/bin/twine ] || need_apt+=(twine)
[ -x /usr/bin/pip3 ] || need_apt+=(python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt_update_once
  apt-get install -y -qq "${need_apt[@]}"
fi
