#!/usr/bin/env bash
# make demo: lanyard doing its job against the in-repo providers on
# 127.0.0.1. Needs only Go (curl is used if present). Everything lives in a
# temp dir that is removed at the end; your own lanyard setup is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

demo=$(mktemp -d "${TMPDIR:-/tmp}/lanyard-demo.XXXXXX")
provider_pid=""
cleanup() {
  # The helpers started a per-user agent for this demo HOME; stop it.
  [ -x "$demo/bin/lanyard" ] && "$demo/bin/lanyard" agent stop >/dev/null 2>&1 || true
  [ -n "$provider_pid" ] && kill "$provider_pid" 2>/dev/null && wait "$provider_pid" 2>/dev/null || true
  rm -rf "$demo"
}
trap cleanup EXIT

say "Building lanyard and the demo provider"
go build -o "$demo/bin/" ./cmd/lanyard ./cmd/lanyard-engine ./cmd/lanyard-demo-provider
export PATH="$demo/bin:$PATH"

say "Starting the providers on 127.0.0.1 (a real OpenID provider + WhenFresh, Shopware, Whiplash, Whisk emulators; access tokens live 4s)"
mkdir -p "$demo/files"
lanyard-demo-provider -access-ttl 4s -demo-dir "$demo/files" >"$demo/provider.json" &
provider_pid=$!
for _ in $(seq 100); do grep -q '"ready":true' "$demo/provider.json" 2>/dev/null && break; sleep 0.1; done
grep -q '"ready":true' "$demo/provider.json" || { echo "provider did not start"; exit 1; }
# shellcheck source=/dev/null
. "$demo/files/env.sh"

# An isolated lanyard: profiles file, encrypted file keyring, XDG dirs in the temp dir.
export HOME="$demo/home" XDG_CONFIG_HOME="$demo/home/.config" XDG_STATE_HOME="$demo/home/.local/state" XDG_DATA_HOME="$demo/home/.local/share"
export LANYARD_CONFIG="$demo/files/config.toml" LANYARD_KEYRING_BACKEND=file LANYARD_KEYRING_PASSPHRASE=demo-passphrase
mkdir -p "$HOME"
stats() { curl -fsS "$1$STATS_PATH" 2>/dev/null || echo "(install curl to see server counters)"; }

say "The profiles (secrets are references to files, never inline)"
sed -n '/^\[profiles.demo\]/,/^$/p' "$LANYARD_CONFIG"

say "1. First call: discovery + client credentials grant at the OpenID provider"
run lanyard token demo --format json

say "2. Second call: served from the encrypted cache, no network"
start=$(date +%s%N); lanyard token demo >/dev/null; end=$(date +%s%N)
echo "took $(( (end - start) / 1000000 )) ms (whole process); server counters: $(stats "$OP_URL")"

say "3. Whiplash: import a refresh token once; it rotates on every use and lanyard saves each new one"
run lanyard login whiplash --refresh-token-stdin <"$demo/files/whiplash.refresh"
first=$(lanyard token whiplash)
echo "token: ${first:0:12}…  counters: $(stats "$WHIPLASH_URL")"
echo "waiting 4s for it to expire…"; sleep 4
second=$(lanyard token whiplash)
echo "token: ${second:0:12}…  (new: $([ "$first" != "$second" ] && echo yes || echo NO))  counters: $(stats "$WHIPLASH_URL")"

say "4. Passing the token to curl"
if command -v curl >/dev/null; then
  printf '$ curl -fsS -H "Authorization: Bearer $(lanyard token whiplash)" %s\n' "$WHIPLASH_URL/api/v2/items"
  curl -fsS -H "Authorization: Bearer $(lanyard token whiplash)" "$WHIPLASH_URL/api/v2/items"; echo
  echo "and without a token the API says:"; curl -sS -o /dev/null -w '%{http_code}\n' "$WHIPLASH_URL/api/v2/items"
else
  run lanyard exec whiplash -- sh -c 'echo "LANYARD_TOKEN has ${#LANYARD_TOKEN} characters"'
fi

say "5. Shopware (JSON token requests) and WhenFresh (discovery on another host)"
run lanyard token shopware --format header
run lanyard login whenfresh --refresh-token-stdin <"$demo/files/whenfresh.refresh"
run lanyard status

say "Done. Try it yourself: README.md, then docs/profiles.md and docs/login.md."
