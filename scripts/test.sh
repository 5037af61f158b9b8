#!/usr/bin/env bash
# README's test command: tests everything on a fresh machine.
#
# 1. Installs the registry peers the integration tests drive, locally, never
#    touching the user's global packages: Node's `ws` into
#    tests/peers/node_modules (npm), Python's `websockets`, `junitparser` and
#    `hypercorn` (HTTP/2) into a venv at tests/peers/.venv (PyPI), pinned in tests/peers/package.json
#    and tests/peers/requirements.txt.
# 2. Runs the whole suite with the peers required (WSSPEC_REQUIRE_PEERS=1: a
#    missing peer or tool fails its test instead of being skipped), the Python
#    peers run by the venv's interpreter (WSSPEC_PYTHON).
#
# Needs: cargo, node and npm, python3 with venv (Debian: python3-venv), and
# xmllint (Debian: libxml2-utils). .ci/run installs the system packages first.
#
#   scripts/test.sh                     # install the peers, then cargo test
#   scripts/test.sh --install-only      # only install the peers
#   scripts/test.sh --test real_peers   # arguments after the first go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."
peers=tests/peers

missing=()
for tool in cargo node npm python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "scripts/test.sh needs ${missing[*]} on the PATH (Debian: apt-get install nodejs npm python3-venv; Rust: rustup.rs)" >&2
  exit 1
fi

echo "== Node's ws into $peers/node_modules"
(cd "$peers" && npm install --no-audit --no-fund --loglevel=error)
node -e "console.log('ws', require('./$peers/node_modules/ws/package.json').version)"

echo "== Python's websockets, junitparser and hypercorn into $peers/.venv"
if [ ! -x "$peers/.venv/bin/python3" ]; then
  python3 -m venv "$peers/.venv" || {
    echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
    exit 1
  }
fi
"$peers/.venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r "$peers/requirements.txt"
export WSSPEC_PYTHON="$PWD/$peers/.venv/bin/python3"
"$WSSPEC_PYTHON" -c 'import websockets, junitparser, hypercorn, importlib.metadata as m; print("websockets", websockets.__version__); print("junitparser", junitparser.version); print("hypercorn", m.version("hypercorn"))'

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi

echo "== cargo test, every peer required (WSSPEC_REQUIRE_PEERS=1)"
export WSSPEC_REQUIRE_PEERS=1
cargo test "$@"
