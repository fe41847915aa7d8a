#!/usr/bin/env bash
# saturation.sh: a saturated load generator gives INCONCLUSIVE (exit 5), not
# a verdict about the pool. It runs one small plan on the embedded server
# twice: first while 2×cores CPU-bound processes compete with planrun at
# normal priority, then without them. The first run should end INCONCLUSIVE
# with the reason; the second (on an otherwise idle machine) should not.
#
#   scripts/saturation.sh [BURNERS]    # default 2 × the number of CPUs
#
# The plan keeps planrun itself busy (32 users, no hold: about 0.8 of a core
# for planrun and as much for the server on an idle 2-core machine): a
# generator that mostly sleeps is woken promptly even among busy loops, and
# then its figures are rightly conclusive. It prints each run's exit code,
# its verdict line and the load generator's figures. Not part of `make test`: how late a timer fires under contention
# depends on the kernel's scheduler, and "idle" on the machine running it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

burners=${1:-$(($(nproc) * 2))}
tmp=$(mktemp -d)
pids=()
stop_burners() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
trap 'stop_burners; rm -rf "$tmp"' EXIT

go build -o "$tmp/planrun" ./cmd/planrun
cat >"$tmp/saturation.yaml" <<'PLAN'
version: 1
name: saturation
pool: {size: 8, max_overflow: 0, timeout: 5s}
mixes:
  app:
    - {name: read, sql: SELECT 1}
scenarios:
  - {name: steady, users: 32, duration: 10s}
PLAN

run() {
	local label=$1 code=0
	rm -rf "$tmp/reports"
	"$tmp/planrun" "$tmp/saturation.yaml" --quiet --no-color --format table --out "$tmp/reports" >"$tmp/out.txt" 2>"$tmp/err.txt" || code=$?
	echo "== $label: exit $code"
	grep -h '^| load generator |' "$tmp"/reports/*.md | sed 's/^/   /' || true
	echo "   verdict: $(tail -n 1 "$tmp/out.txt" | sed 's/^ *//')"
	if [ "$code" -ne 0 ] && [ "$code" -ne 1 ] && [ "$code" -ne 5 ]; then
		sed 's/^/   stderr: /' "$tmp/err.txt"
	fi
}

for _ in $(seq 1 "$burners"); do
	sh -c 'while :; do :; done' &
	pids+=($!)
done
run "with $burners CPU burners on $(nproc) cores"
stop_burners
sleep 2 # let the machine settle
run "without burners"
