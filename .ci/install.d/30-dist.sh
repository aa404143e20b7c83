# Sourced by .ci/run: what make dist needs besides Go (tar, gzip, zip), and
# a cache for the nfpm binary it builds once (scripts/dist.sh).
if ! command -v zip >/dev/null; then
  apt_update_once
  apt-get install -y -qq zip
fi
export LANYARD_TOOLS_DIR="$LANYARD_CI_CACHE/tools"
