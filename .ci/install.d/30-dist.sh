# Sourced by .ci/run: what make dist needs besides Go (tar, gzip, zip), what
# its checks need (bsdtar), and
# a cache for the nfpm binary it builds once (scripts/dist.sh).
if ! command -v zip >/dev/null; then
  apt_update_once
  apt-get install -y -qq zip
fi
# bsdtar lists .zip and .rpm entries for .ci/check.d/25-dist-modes.sh.
if ! command -v bsdtar >/dev/null; then
  apt_update_once
  apt-get install -y -qq libarchive-tools
fi
export LANYARD_TOOLS_DIR="$LANYARD_CI_CACHE/tools"
