# Sourced by .ci/run: Debian's git-lfs, for the LFS end-to-end test
# (helpers/git/lfs_e2e_test.go).
if ! command -v git-lfs >/dev/null; then
  apt_update_once
  apt-get install -y -qq git-lfs
fi
