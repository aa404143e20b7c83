# Sourced by .ci/run: the shells whose completion scripts the tests drive
# (bash is there already; cmd/lanyard-engine/completion_test.go).
need_shells=()
command -v zsh >/dev/null || need_shells+=(zsh)
command -v fish >/dev/null || need_shells+=(fish)
if [ ${#need_shells[@]} -gt 0 ]; then
  apt_update_once
  apt-get install -y -qq "${need_shells[@]}"
fi
