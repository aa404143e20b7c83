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

# crane at the version go.mod pins, built in its own module (lanyard's go.mod
# lists only the packages the tests import, not crane's CLI dependencies).
crane_version=$(go list -m -f '{{.Version}}' github.com/google/go-containerregistry)
crane_bin="$LANYARD_CI_CACHE/crane-$crane_version"
if [ ! -x "$crane_bin" ]; then
  crane_dir=$(go mod download -json "github.com/google/go-containerregistry@$crane_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  (cd "$crane_dir" && GOFLAGS=-mod=mod go build -o "$crane_bin" ./cmd/crane)
fi
mkdir -p bin
ln -sf "$crane_bin" bin/crane
export PATH="$PWD/bin:$PATH"
