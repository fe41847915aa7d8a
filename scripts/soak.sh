#!/usr/bin/env bash
# soak.sh: run planrun at full speed for a long time and sample its resident
# memory, to show that RSS stays flat (memory follows concurrency, not time).
#
#   scripts/soak.sh [SCALE] [OUT_DIR]
#
# SCALE multiplies the one-hour soak plan (default 1 = one hour; 0.05 = 3
# minutes). Writes OUT_DIR/rss.csv (seconds since start, RSS in MiB), the
# run's reports, and prints a summary. Not part of `make test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scale=${1:-1}
out=${2:-out/soak}
mkdir -p "$out"
make -s build
./bin/planrun scripts/soak/soak.yaml --time-scale "$scale" --quiet --format json --out "$out" >"$out/run.json" 2>"$out/run.log" &
pid=$!
echo "seconds,rss_mib" >"$out/rss.csv"
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
	rss=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$pid/status" 2>/dev/null || true)
	[ -n "$rss" ] && echo "$(($(date +%s) - start)),$rss" >>"$out/rss.csv"
	sleep 10
done
wait "$pid" || echo "planrun exited $?" >&2
awk -F, 'NR > 1 { n++; if (n == 1 || $2 < min) min = $2; if ($2 > max) max = $2; last = $2 }
	END { printf "RSS samples %d: min %.1f MiB, max %.1f MiB, last %.1f MiB\n", n, min, max, last }' "$out/rss.csv"
