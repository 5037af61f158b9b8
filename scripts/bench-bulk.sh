#!/usr/bin/env bash
# Bulk throughput and per-case cost (docs/benchmarks.md, "Bulk throughput and
# per-case cost"): benches/bulk.rs in one invocation — group 9's 16 MiB
# echoes by wsspec and by a minimal tokio-tungstenite client, each against the
# reference server and against a streaming echo peer, and a raw TCP echo, all
# peers in the same process; then groups 1–7 and 10 at
# --jobs 1 and 16 next to as many minimal connections. Prints the tables
# with the ratios of the same run, after the commit and toolchain measured.
#
#   scripts/bench-bulk.sh            # both parts (about 20 s once built)
#   scripts/bench-bulk.sh bulk       # only the 16 MiB echoes
#   scripts/bench-bulk.sh cases      # only the per-case part
#   WSSPEC_BULK_ROUNDS=15 WSSPEC_CASE_ROUNDS=9 scripts/bench-bulk.sh
#   WSSPEC_BULK_TRACE=1 scripts/bench-bulk.sh bulk   # also each case's timeline
#
# The first build compiles the dependencies in release mode (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src benches || echo ' (modified)'), $(rustc --version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
exec cargo bench --quiet --bench bulk -- "$@"
