#!/usr/bin/env bash
# soak-watch.sh: `planrun watch` at a 10 ms interval for a long time against
# a server whose sessions keep changing, sampling the watch's resident memory,
# to show that RSS stays flat over a long watch (the series and the figures
# are bounded; nothing grows with the number of samples).
#
#   scripts/soak-watch.sh [MINUTES] [OUT_DIR]
#
# MINUTES is how long to watch (default 60). It starts a throwaway PostgreSQL
# from the installed server binaries (make deps; as root, the server runs as
# the postgres account, else nobody), and keeps a load on it: the sessions
# plan (scripts/soak/sessions.yaml: 30 users on a pool of 5 + 15, whose
# overflow connections open and close all the time, light enough to leave
# the machine to other work) run again and again, 3 minutes each. The watch
# takes the same plan: it names no service, so it watches every client
# backend of the database, against a capacity of 20. Writes
# OUT_DIR/rss.csv (seconds since start, RSS in MiB), the watch's reports
# and logs, and prints a summary. Not part of `make test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

minutes=${1:-60}
out=${2:-out/soak-watch}
mkdir -p "$out"
make -s build

tmp=$(mktemp -d)
as=()
if [[ $(id -u) == 0 ]]; then
	account=postgres
	id "$account" >/dev/null 2>&1 || account=nobody
	chown "$account" "$tmp"
	as=(runuser -u "$account" --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as[@]}" initdb -D "$tmp/data" -U postgres -A trust >"$out/initdb.log"
"${as[@]}" pg_ctl -D "$tmp/data" -l "$tmp/postgres.log" -w \
	-o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
stop() {
	if [[ -n "${load:-}" ]]; then kill "$load" 2>/dev/null || true; fi
	"${as[@]}" pg_ctl -D "$tmp/data" -m fast stop >/dev/null 2>&1 || true
	cp "$tmp/postgres.log" "$out/postgres.log" 2>/dev/null || true
	rm -rf "$tmp"
}
trap stop EXIT
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

# The changing sessions: the soak plan's pool, run back to back.
(
	end=$((SECONDS + minutes * 60))
	while ((SECONDS < end)); do
		./bin/planrun scripts/soak/sessions.yaml --quiet --format json >/dev/null 2>>"$out/load.log" || true
	done
) &
load=$!

./bin/planrun watch scripts/soak/sessions.yaml --for "${minutes}m" --interval 10ms --report-every 10m \
	--quiet --format json --out "$out" >"$out/watch.json" 2>"$out/watch.log" &
pid=$!
echo "seconds,rss_mib" >"$out/rss.csv"
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
	rss=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$pid/status" 2>/dev/null || true)
	[[ -n "$rss" ]] && echo "$(($(date +%s) - start)),$rss" >>"$out/rss.csv"
	sleep 10
done
code=0
wait "$pid" || code=$?
# 0 or 1 is a verdict; 2 and up mean the watch did not run as asked.
echo "planrun watch exited $code" >&2
awk -F, 'NR > 1 { n++; if (n == 1) first = $2; if (n == 1 || $2 < min) min = $2; if ($2 > max) max = $2; last = $2 }
	END { printf "RSS samples %d: first %.1f MiB, min %.1f MiB, max %.1f MiB, last %.1f MiB\n", n, first, min, max, last }' "$out/rss.csv"
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]["service"]
print("watch: %d samples, %d missed, backends max %d, in use max %d, at capacity %d times (longest %.1f s)" % (s["samples"], s["missed"], s["backends"]["max"], s["in_use"]["max"], s["saturation"]["episodes"], s["saturation"]["longest"] / 1e9))' "$out/watch.json" || true
((code <= 1))
