# Sourced by .ci/run: cargo (rustup's, in /root/.cargo/bin) and terraform
# (/usr/local/bin) come with the machine image; put cargo on PATH for the
# helpers/cargo end-to-end tests, which fail in CI when either is missing.
if ! command -v cargo >/dev/null && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
  export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
fi
command -v cargo >/dev/null || echo "warning: cargo not found; the cargo end-to-end tests will fail under LANYARD_E2E_REQUIRED" >&2
command -v terraform >/dev/null || echo "warning: terraform not found; the terraform end-to-end tests will fail under LANYARD_E2E_REQUIRED" >&2
