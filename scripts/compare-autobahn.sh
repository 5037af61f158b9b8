#!/usr/bin/env bash
# Runs Autobahn|Testsuite (wstest) and wsspec against the same WebSocket peer
# and prints the cases whose verdicts differ, the agreement as a percentage, and
# both wall times with their ratio. Two modes:
#
#   scripts/compare-autobahn.sh URL [CASE-PATTERN...]
#   scripts/compare-autobahn.sh --client 'CLIENT-COMMAND' [CASE-PATTERN...]
#
# Server mode (URL): wstest's fuzzingclient and `wsspec run` test the WebSocket
# server at URL, under the agent name "compared". Default patterns: groups 1-7,
# 9, 10. Wall times cover each tool's whole run.
#
#   scripts/compare-autobahn.sh ws://127.0.0.1:9001 '1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '10.*'
#
# The compression groups (permessage-deflate, RFC 7692) are not in the
# defaults because wstest needs 18-27 minutes for them; name them:
#
#   scripts/compare-autobahn.sh ws://127.0.0.1:9001 '12.*' '13.*'
#   scripts/compare-autobahn.sh --client 'node tests/peers/ws_fuzz_client.js "$AUTOBAHN_URL" c' '12.*' '13.*'
#
# wstest matches a pattern with a star from its start only, so '12.*.1' also
# runs 12.x.10-12.x.18 there; name whole subgroups ('12.1.*') or single ids.
#
# Client mode (--client): wstest's fuzzingserver and `wsspec serve` each listen
# on a free 127.0.0.1 port, and CLIENT-COMMAND (run with bash -c, the server's
# ws:// URL in $AUTOBAHN_URL) drives the client under test against each in turn,
# as ../shared/autobahn/run-autobahn.sh's `server` mode does. The driver must
# end with /updateReports?agent=A&shutdownOnComplete=true; the agent name is
# read from each side's index.json (exactly one agent). Default patterns:
# groups 1-7, 10. Wall times are measured around the driver command.
#
#   scripts/compare-autobahn.sh --client 'python3 ../shared/autobahn/targets/fuzz_client.py "$AUTOBAHN_URL" py-client'
#   scripts/compare-autobahn.sh --client 'node tests/peers/ws_fuzz_client.js "$AUTOBAHN_URL" node-client' '1.*'
#
# Needs wstest from ../shared/autobahn (install it once with
# `../shared/autobahn/run-autobahn.sh install`, ~60 s; the script stops with an
# error if it is missing). Patterns are Autobahn's. Builds target/release/wsspec
# first. Deliberate and timing-dependent differences are read from
# docs/autobahn-differences.md and reported separately. Everything (reports,
# wstest and driver logs) is kept in a temporary folder, printed at the start.
# Env: AUTOBAHN_RUNNER (default ../shared/autobahn/run-autobahn.sh), ANCHORS and
# AUTOBAHN_VENV (where wstest is, as for the runner), TIMEOUT_S (limit for one
# driver run in client mode, default 3600).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&"$1"; exit "$2"; }
die() { echo "compare-autobahn: $*" >&2; exit 1; }

mode=server
case "${1:-}" in
  -h|--help) usage 1 0 ;;
  '') usage 2 2 ;;
  --client)
    mode=client
    client_cmd=${2:-}
    [ -n "$client_cmd" ] || usage 2 2
    shift 2
    [ $# -gt 0 ] || set -- '1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '10.*' ;;
  -*) usage 2 2 ;;
  *)
    url=$1
    shift
    [ $# -gt 0 ] || set -- '1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '9.*' '10.*' ;;
esac

runner=${AUTOBAHN_RUNNER:-$here/../shared/autobahn/run-autobahn.sh}
[ -f "$runner" ] || die "no Autobahn runner at $runner (set AUTOBAHN_RUNNER)"
wstest=${AUTOBAHN_VENV:-${ANCHORS:-$HOME/anchors}/autobahn-venv}/bin/wstest
[ -x "$wstest" ] || die "wstest not found at $wstest; install it with: $runner install"
timeout_s=${TIMEOUT_S:-3600}
wsspec=$here/target/release/wsspec
out=$(mktemp -d "${TMPDIR:-/tmp}/wsspec-compare.XXXXXX")
echo "== reports and logs in $out"
(cd "$here" && cargo build --release --quiet)
cases=()
for p in "$@"; do cases+=(--cases "$p"); done

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# Compares two Autobahn-shaped index.json files case by case.
# Args: AUTOBAHN-INDEX WSSPEC-INDEX AGENT AUTOBAHN-WALL WSSPEC-WALL; an empty
# AGENT means "the one agent each file holds".
compare_verdicts() {
  python3 - "$1" "$2" "$here/docs/autobahn-differences.md" "$3" "$4" "$5" <<'PY'
import json, re, sys
ab_path, ws_path, doc, agent, ab_wall, ws_wall = sys.argv[1:]
def results(path):
    index = json.load(open(path))
    if agent:
        return agent, index[agent]
    if len(index) != 1:
        sys.exit(f"{path}: expected exactly one agent, found {sorted(index) or 'none'}")
    return next(iter(index.items()))
ab_agent, ab = results(ab_path)
ws_agent, ws = results(ws_path)
if not agent:
    print(f"agent: {ab_agent}" if ab_agent == ws_agent else f"agents: {ab_agent} (Autobahn), {ws_agent} (wsspec)")
section, deliberate, timing = None, set(), set()
for line in open(doc):
    if line.startswith('## '):
        section = line.strip()
    m = re.match(r'\|\s*(\d+(?:\.\d+)+)\s*\|', line)
    if m and section == '## Deliberate differences':
        deliberate.add(m.group(1))
    elif m and section == '## Timing-dependent cases':
        timing.add(m.group(1))
key = lambda c: tuple(int(x) if x.isdigit() else -1 for x in c.split('.'))
rows, compared, agree = [], 0, 0
for cid in sorted(set(ab) | set(ws), key=key):
    a, w = ab.get(cid), ws.get(cid)
    if a is None or w is None:
        rows.append((cid, 'missing' if a is None else f"{a['behavior']}/{a['behaviorClose']}",
                     'missing' if w is None else f"{w['behavior']}/{w['behaviorClose']}", 'only one side ran it'))
        continue
    same = (a['behavior'], a['behaviorClose']) == (w['behavior'], w['behaviorClose'])
    if cid in deliberate:
        note = 'deliberate (docs/autobahn-differences.md)'
    else:
        compared += 1
        ok_timing = cid in timing and a['behaviorClose'] == w['behaviorClose'] \
            and {a['behavior'], w['behavior']} <= {'OK', 'NON-STRICT'}
        agree += same or ok_timing
        note = 'timing-dependent' if (not same and ok_timing) else ''
    if not same:
        rows.append((cid, f"{a['behavior']}/{a['behaviorClose']}", f"{w['behavior']}/{w['behaviorClose']}", note))
print(f"\n{'case':<10} {'Autobahn':<28} {'wsspec':<28} note")
for r in rows:
    print(f"{r[0]:<10} {r[1]:<28} {r[2]:<28} {r[3]}")
pct = 100.0 * agree / compared if compared else 0.0
print(f"\nagreement: {agree}/{compared} cases ({pct:.1f}%), not counting {len(deliberate & set(ab))} deliberate differences")
print(f"wall time: Autobahn {float(ab_wall):.1f} s, wsspec {float(ws_wall):.1f} s ({float(ab_wall) / max(float(ws_wall), 0.001):.1f}x)")
PY
}

if [ "$mode" = server ]; then
  agent=compared
  echo "== Autobahn|Testsuite against $url"
  start=$(now)
  OUT="$out/autobahn" bash "$runner" client "$url" "$agent" "$@" >/dev/null
  autobahn_wall=$(since "$start")

  echo "== wsspec against $url"
  start=$(now)
  "$wsspec" run "$url" "${cases[@]}" --agent "$agent" \
    --report-dir "$out/wsspec" --autobahn-json "$out/wsspec" >/dev/null 2>&1 || true
  wsspec_wall=$(since "$start")

  compare_verdicts "$out/autobahn/reports/servers/index.json" "$out/wsspec/index.json" \
    "$agent" "$autobahn_wall" "$wsspec_wall"
  exit
fi

# ---- client mode ----------------------------------------------------------

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
show_log() {  # file: its last lines, to stderr
  echo "--- last lines of $1:" >&2
  tail -n 20 "$1" >&2 || true
}

# Autobahn: run-autobahn.sh's server mode runs wstest -m fuzzingserver and then
# the driver; the wrapper below stamps the driver's start, end and exit status.
port=$(free_port)
echo "== Autobahn|Testsuite fuzzing server on ws://127.0.0.1:$port"
mkdir -p "$out/autobahn"
stamps=$out/autobahn/driver
# shellcheck disable=SC2016  # expanded by the runner's bash -c, not here
wrapper='now() { date +%s.%N; }; now > "$COMPARE_STAMPS.start"; rc=0
bash -c "$COMPARE_DRIVER" || rc=$?; now > "$COMPARE_STAMPS.end"; echo "$rc" > "$COMPARE_STAMPS.rc"; exit "$rc"'
COMPARE_DRIVER=$client_cmd COMPARE_STAMPS=$stamps OUT="$out/autobahn" CLIENT_CMD=$wrapper TIMEOUT_S=$timeout_s \
  bash "$runner" server "$port" "$@" >/dev/null \
  || { show_log "$out/autobahn/wstest.log"; die "the Autobahn run failed"; }
[ -f "$stamps.rc" ] || { show_log "$out/autobahn/client.log"; die "the driver did not run under Autobahn"; }
rc=$(cat "$stamps.rc")
[ "$rc" = 0 ] || { show_log "$out/autobahn/client.log"; die "the driver failed under Autobahn (exit $rc)"; }
autobahn_wall=$(echo "$(cat "$stamps.end") - $(cat "$stamps.start")" | bc)
ab_index=$out/autobahn/reports/clients/index.json
[ -f "$ab_index" ] || { show_log "$out/autobahn/wstest.log"; die "Autobahn wrote no $ab_index"; }

# wsspec: serve on a free port, the same driver against it; serve exits on
# updateReports?...&shutdownOnComplete=true.
mkdir -p "$out/wsspec"
serve_log=$out/wsspec/serve.log
port=$(free_port)
"$wsspec" serve --listen "127.0.0.1:$port" --report-dir "$out/wsspec" "${cases[@]}" >"$serve_log" 2>&1 &
serve_pid=$!
stop_serve() { kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; }
trap stop_serve EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 100); do
  grep -q '^wsspec serve: ' "$serve_log" && break
  kill -0 "$serve_pid" 2>/dev/null || { show_log "$serve_log"; die "wsspec serve exited before it listened"; }
  sleep 0.1
done
grep -q '^wsspec serve: ' "$serve_log" || { show_log "$serve_log"; die "wsspec serve did not start listening"; }
echo "== wsspec serve on ws://127.0.0.1:$port"
start=$(now)
rc=0
AUTOBAHN_URL="ws://127.0.0.1:$port" timeout "$timeout_s" bash -c "$client_cmd" >"$out/wsspec/client.log" 2>&1 || rc=$?
wsspec_wall=$(since "$start")
if [ "$rc" != 0 ]; then
  stop_serve
  show_log "$out/wsspec/client.log"
  die "the driver failed under wsspec serve (exit $rc)"
fi
for _ in $(seq 1 300); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$serve_pid" 2>/dev/null; then
  stop_serve
  die "wsspec serve was still running 60 s after the driver ended (no updateReports with shutdownOnComplete=true?)"
fi
serve_rc=0
wait "$serve_pid" || serve_rc=$?
trap - EXIT
# exit 0: nothing failed, 1: some case failed; anything else is an error
[ "$serve_rc" -le 1 ] || { show_log "$serve_log"; die "wsspec serve exited with $serve_rc"; }
ws_index=$out/wsspec/index.json
[ -f "$ws_index" ] || { show_log "$serve_log"; die "wsspec serve wrote no $ws_index"; }

compare_verdicts "$ab_index" "$ws_index" "" "$autobahn_wall" "$wsspec_wall"
