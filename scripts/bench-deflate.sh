#!/usr/bin/env bash
# Compression benchmark (docs/benchmarks.md, "Compression"): Autobahn's groups
# 12 and 13 against Node's `ws` (tests/peers, permessage-deflate on), timed
# for wsspec and for the minimal baseline client of benches/deflate.rs, which
# makes the same round trips with flate2 at the same level and nothing else.
# Prints both wall times, their ratio and wsspec's peak RSS.
#
#   scripts/bench-deflate.sh [GLOB...]      # default: '12.*' '13.*'
#
# Needs `npm install` in tests/peers (as .ci/run does). Builds the release
# binary and the bench first (WSSPEC_BIN=path times that binary instead). Autobahn's own time for the same groups is in
# ../shared/autobahn/README.md (27 min 15 s against the same peer) or, side by
# side, from scripts/compare-autobahn.sh URL '12.*' '13.*'.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ $# -gt 0 ] || set -- '12.*' '13.*'
[ -n "${WSSPEC_BIN:-}" ] || cargo build --release --quiet
cargo bench --bench deflate --no-run --quiet 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node tests/peers/ws-echo-server.js "$port" > /dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
url="ws://127.0.0.1:$port"
cases=()
for p in "$@"; do cases+=(--cases "$p"); done
out=$(mktemp -d "${TMPDIR:-/tmp}/wsspec-bench-deflate.XXXXXX")
now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f '%M' -o "$out/rss" "${WSSPEC_BIN:-target/release/wsspec}" run "$url" "${cases[@]}" --report-dir "$out/reports" | tail -1
t1=$(now)
cargo bench --bench deflate --quiet -- "$url" "$@"
t2=$(now)
python3 - "$t0" "$t1" "$t2" "$(cat "$out/rss")" <<'PY'
import sys
t0, t1, t2, rss = map(float, sys.argv[1:])
w, b = t1 - t0, t2 - t1
print(f"wsspec {w:.1f} s (peak RSS {rss/1024:.0f} MiB), baseline {b:.1f} s: wsspec/baseline = {w/b:.2f}x")
PY
echo "reports in $out/reports"
