# Sourced by .ci/run: a git new enough to announce capability[]=authtype
# (2.46+), built once from Debian trixie's source package into
# $LANYARD_CI_CACHE and reused on later runs. Debian's git 2.39 stays the
# default `git`; tests find the new one through LANYARD_GIT_NEW.
git_new_dir="$LANYARD_CI_CACHE/git-new"
if [ ! -x "$git_new_dir/bin/git" ]; then
  src_list=/etc/apt/sources.list.d/lanyard-trixie-src.sources
  if [ ! -f "$src_list" ]; then
    cat >"$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  # A fresh update even if apt_update_once ran: the deb-src line is new.
  apt-get update -qq
  apt_updated=1
  apt-get install -y -qq --no-install-recommends make gcc libc6-dev \
    libcurl4-openssl-dev zlib1g-dev libexpat1-dev dpkg-dev xz-utils
  git_src_work="$LANYARD_CI_CACHE/git-src"
  rm -rf "$git_src_work"
  mkdir -p "$git_src_work"
  (cd "$git_src_work" && apt-get source --download-only -qq git/trixie)
  orig=$(ls "$git_src_work"/git_*.orig.tar.* | head -n1)
  tar -C "$git_src_work" -xf "$orig"
  git_tree=$(find "$git_src_work" -mindepth 1 -maxdepth 1 -type d -name 'git*' | head -n1)
  # Only git and the http(s) remote helpers; no Tcl/Tk, Perl, Python, gettext.
  make -C "$git_tree" -j2 prefix="$git_new_dir" \
    NO_TCLTK=1 NO_PERL=1 NO_PYTHON=1 NO_GETTEXT=1 NO_INSTALL_HARDLINKS=1 \
    git git-remote-http >/dev/null
  mkdir -p "$git_new_dir/bin" "$git_new_dir/libexec/git-core"
  install -m 0755 "$git_tree/git" "$git_new_dir/bin/git"
  install -m 0755 "$git_tree/git-remote-http" "$git_new_dir/libexec/git-core/git-remote-http"
  ln -sf git-remote-http "$git_new_dir/libexec/git-core/git-remote-https"
  # git runs its own subcommands as "git" from its exec path.
  ln -sf ../../bin/git "$git_new_dir/libexec/git-core/git"
  rm -rf "$git_src_work"
fi
export LANYARD_GIT_NEW="$git_new_dir/bin/git"
"$LANYARD_GIT_NEW" version >&2
