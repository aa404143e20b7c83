# Sourced by .ci/run after `make test`: make dist packages reproducibly (two
# runs, under umask 0002 and 0022, same checksums), checksums.txt verifies,
# and the .deb installs with dpkg, serves git from /usr/bin (the git
# end-to-end tests against the installed binaries) and removes cleanly.
# The second run packages the first run's binaries (DIST_BINARIES): each
# platform is built once; the binaries are reproducible by -trimpath and
# Go's own reproducible builds, the packaging by this check.
dist_binaries="$(mktemp -d)"
(umask 0002 && DIST_BINARIES="$dist_binaries" make dist)
first="$(mktemp)"
cp dist/checksums.txt "$first"
(umask 0022 && DIST_BINARIES="$dist_binaries" make dist)
rm -rf "$dist_binaries"
if ! diff -u "$first" dist/checksums.txt; then
  echo "make dist is not reproducible: two runs from one commit (umask 0002, then 0022) gave different files (above)" >&2
  exit 1
fi
rm -f "$first"
(cd dist && sha256sum --quiet -c checksums.txt)

deb="$(ls dist/lanyard_*_"$(dpkg --print-architecture)".deb)"
dpkg -i "$deb"
files="$(dpkg -L lanyard)"
for f in /usr/bin/lanyard /usr/bin/git-credential-lanyard /usr/bin/cargo-credential-lanyard \
         /usr/bin/terraform-credentials-lanyard /usr/share/bash-completion/completions/lanyard \
         /usr/lib/python3/dist-packages/lanyard_httpie.py; do
  [ -e "$f" ] || { echo "$deb did not install $f" >&2; exit 1; }
done
# Debian's httpie (/usr/bin/http, /usr/bin/python3) finds the plugin.
if [ "$(head -n1 "$(command -v http)")" = "#!/usr/bin/python3" ]; then
  http --help | grep -q -- lanyard || { echo "httpie does not list the packaged lanyard auth plugin" >&2; exit 1; }
fi
LANYARD_TEST_BIN=/usr/bin go test -count=1 ./helpers/git/
dpkg -r lanyard
left="$(while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done <<<"$files")"
if [ -n "$left" ]; then
  echo "dpkg -r lanyard left files behind: $left" >&2
  exit 1
fi
