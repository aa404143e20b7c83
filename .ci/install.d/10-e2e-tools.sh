# Sourced by .ci/run: git, HTTPie, skopeo, npm, kubectl, newman, crane.
need_apt=()
command -v git >/dev/null || need_apt+=(git)
command -v http >/dev/null || need_apt+=(httpie)
command -v skopeo >/dev/null || need_apt+=(skopeo)
command -v npm >/dev/null || need_apt+=(npm)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ] || ! command -v kubectl >/dev/null; then
  apt_update_once
  [ ${#need_apt[@]} -gt 0 ] && apt-get install -y -qq "${need_apt[@]}"
  if ! command -v kubectl >/dev/null; then
    apt-get install -y -qq kubectl || apt-get install -y -qq kubernetes-client
  fi
fi

# newman (Postman's CLI) into a local node_modules, pinned.
if [ ! -x node_modules/.bin/newman ]; then
  npm install --no-save --no-audit --no-fund --loglevel=error newman@6.2.2
fi
export PATH="$PWD/node_modules/.bin:$PATH"

# crane from the module cache at the version go.mod pins.
mkdir -p bin
if [ ! -x bin/crane ]; then
  go build -o bin/crane github.com/google/go-containerregistry/cmd/crane
fi
export PATH="$PWD/bin:$PATH"
