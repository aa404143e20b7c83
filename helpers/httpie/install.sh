#!/usr/bin/env bash
# Install or remove lanyard's HTTPie auth plugin without a package index.
#
#   bash helpers/httpie/install.sh install   [--target DIR]   (make install-httpie)
#   bash helpers/httpie/install.sh uninstall [--target DIR]   (make uninstall-httpie)
#   bash helpers/httpie/install.sh where                      print the directory used
#
# The plugin is one module, lanyard_httpie.py. It is copied, with a small
# *.dist-info whose entry_points.txt registers it in the group
# httpie.plugins.auth.v1, into a site-packages directory of the Python that
# runs `http` (read from its #! line: /usr/bin/python3 for Debian's httpie):
# a virtualenv's own (pipx, brew), else the system site directory when it is
# writable (as root on Debian: /usr/local/lib/python3.X/dist-packages), else
# the user's site directory (~/.local/lib/python3.X/site-packages).
# --target DIR (or LANYARD_HTTPIE_TARGET) puts it in DIR instead, for use with
# PYTHONPATH=DIR. pip users may run instead:
#   pip install --no-index --no-build-isolation ./helpers/httpie
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dist=httpie_lanyard
module=lanyard_httpie

die() { echo "install.sh: $*" >&2; exit 1; }

action="${1:-}"
[ $# -gt 0 ] && shift
target="${LANYARD_HTTPIE_TARGET:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || die "--target needs a directory"; target="$2"; shift 2 ;;
    --target=*) target="${1#--target=}"; shift ;;
    *) die "unknown argument $1; usage: install.sh install|uninstall|where [--target DIR]" ;;
  esac
done

version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$here/$module.py")"
[ -n "$version" ] || die "no __version__ in $here/$module.py"

# The interpreter of `http` (HTTPIE_PYTHON overrides).
python_of_http() {
  if [ -n "${HTTPIE_PYTHON:-}" ]; then echo "$HTTPIE_PYTHON"; return; fi
  local http line
  http="$(command -v http || true)"
  [ -n "$http" ] || die "HTTPie (http) not found on PATH; install it first (Debian: apt-get install httpie)"
  IFS= read -r line < "$http" || true
  case "$line" in
    "#!"*) line="${line#\#!}"; line="${line# }" ;;
    *) die "$http has no #! line; set HTTPIE_PYTHON to the Python that runs HTTPie" ;;
  esac
  # "#!/usr/bin/env python3" and "#!/usr/bin/python3 -s" both work.
  set -- $line
  if [ "$(basename "$1")" = env ]; then shift; fi
  command -v "$1" >/dev/null || die "$http runs $1, which is not installed; set HTTPIE_PYTHON"
  echo "$1"
}

site_dir() {
  if [ -n "$target" ]; then echo "$target"; return; fi
  local py
  py="$(python_of_http)"
  "$py" -c 'import httpie' 2>/dev/null || die "$py cannot import httpie; set HTTPIE_PYTHON to the Python that runs HTTPie"
  "$py" - <<'EOF'
import os, site, sys, sysconfig

def usable(d):
    while d and not os.path.isdir(d):
        d = os.path.dirname(d)
    return bool(d) and os.access(d, os.W_OK)

cands = []
if sys.prefix != sys.base_prefix:  # a virtualenv (pipx, brew): its own site-packages
    cands.append(sysconfig.get_paths()["purelib"])
cands += site.getsitepackages()[:1]  # Debian: /usr/local/lib/python3.X/dist-packages
for d in cands:
    if usable(d):
        print(d)
        sys.exit(0)
if site.ENABLE_USER_SITE:
    print(site.getusersitepackages())
    sys.exit(0)
sys.exit("no writable site-packages for %s; run as root or pass --target DIR" % sys.executable)
EOF
}

remove_from() {
  local dir="$1"
  rm -rf "$dir/$module.py" "$dir/$dist-"*.dist-info
  rm -f "$dir/__pycache__/$module".*.pyc
}

case "$action" in
  where)
    site_dir
    ;;
  install)
    dir="$(site_dir)"
    mkdir -p "$dir"
    remove_from "$dir"
    info="$dir/$dist-$version.dist-info"
    mkdir -p "$info"
    install -m 0644 "$here/$module.py" "$dir/$module.py"
    printf '[httpie.plugins.auth.v1]\nlanyard = %s:LanyardAuthPlugin\n' "$module" > "$info/entry_points.txt"
    printf 'Metadata-Version: 2.1\nName: httpie-lanyard\nVersion: %s\nSummary: lanyard OAuth tokens for HTTPie (--auth-type=lanyard)\nRequires-Dist: httpie\n' "$version" > "$info/METADATA"
    echo "$module" > "$info/top_level.txt"
    echo "lanyard-install.sh" > "$info/INSTALLER"
    {
      echo "$module.py,,"
      for f in METADATA entry_points.txt top_level.txt INSTALLER RECORD; do
        echo "$dist-$version.dist-info/$f,,"
      done
    } > "$info/RECORD"
    echo "installed the HTTPie plugin into $dir; use: http --auth-type=lanyard --auth=PROFILE URL" >&2
    ;;
  uninstall)
    dir="$(site_dir)"
    remove_from "$dir"
    echo "removed the HTTPie plugin from $dir" >&2
    ;;
  *)
    die "usage: install.sh install|uninstall|where [--target DIR]"
    ;;
esac
