#!/usr/bin/env bash
# Runs Autobahn|Testsuite (wstest) and wsspec against the same WebSocket server
# and prints the cases whose verdicts differ, the agreement as a percentage, and
# both wall times.
#
#   scripts/compare-autobahn.sh URL [CASE-PATTERN...]
#   scripts/compare-autobahn.sh ws://127.0.0.1:9001 '1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '10.*'
#
# Needs the Autobahn runner from ../shared/autobahn (run-autobahn.sh installs
# wstest on first use, ~60 s). Patterns are Autobahn's; default: groups 1-7, 9, 10.
# Deliberate and timing-dependent differences are read from
# docs/autobahn-differences.md and reported separately.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
url=${1:?usage: compare-autobahn.sh URL [CASE-PATTERN...]}
shift
[ $# -gt 0 ] || set -- '1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '9.*' '10.*'
runner=${AUTOBAHN_RUNNER:-$here/../shared/autobahn/run-autobahn.sh}
out=$(mktemp -d "${TMPDIR:-/tmp}/wsspec-compare.XXXXXX")
agent=compared

echo "== Autobahn|Testsuite against $url (reports in $out/autobahn)"
start=$(date +%s.%N)
OUT="$out/autobahn" bash "$runner" client "$url" "$agent" "$@" >/dev/null
autobahn_wall=$(echo "$(date +%s.%N) - $start" | bc)

echo "== wsspec against $url"
(cd "$here" && cargo build --release --quiet)
args=()
for p in "$@"; do args+=(--cases "$p"); done
start=$(date +%s.%N)
"$here/target/release/wsspec" run "$url" "${args[@]}" --agent "$agent" \
  --report-dir "$out/wsspec" --autobahn-json "$out/wsspec" >/dev/null 2>&1 || true
wsspec_wall=$(echo "$(date +%s.%N) - $start" | bc)

python3 - "$out/autobahn/reports/servers/index.json" "$out/wsspec/index.json" \
  "$here/docs/autobahn-differences.md" "$agent" "$autobahn_wall" "$wsspec_wall" <<'PY'
import json, re, sys
ab_path, ws_path, doc, agent, ab_wall, ws_wall = sys.argv[1:]
ab = json.load(open(ab_path))[agent]
ws = json.load(open(ws_path))[agent]
section, deliberate, timing = None, set(), set()
for line in open(doc):
    if line.startswith('## '):
        section = line.strip()
    m = re.match(r'\|\s*(\d+(?:\.\d+)+)\s*\|', line)
    if m and section == '## Deliberate differences':
        deliberate.add(m.group(1))
    elif m and section == '## Timing-dependent cases':
        timing.add(m.group(1))
key = lambda c: tuple(int(x) for x in c.split('.'))
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
