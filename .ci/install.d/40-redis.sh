# Sourced by .ci/run: redis-server (Debian's is built with TLS) and
# redis-sentinel for the shared tier's tests (internal/shared).
need_redis=()
command -v redis-server >/dev/null || need_redis+=(redis-server)
command -v redis-sentinel >/dev/null || need_redis+=(redis-sentinel)
if [ ${#need_redis[@]} -gt 0 ]; then
  apt_update_once
  apt-get install -y -qq --no-install-recommends "${need_redis[@]}"
fi
# The Debian package starts a system redis on 6379; the tests start their own
# on free ports and need nothing from it.
