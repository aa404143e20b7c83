# Sourced by .ci/run: promtool (Debian's prometheus package), which the
# metrics test (internal/agent TestAgentMetrics) runs on lanyard agent
# metrics' output.
if ! command -v promtool >/dev/null; then
  apt_update_once
  apt-get install -y -qq --no-install-recommends prometheus
fi
