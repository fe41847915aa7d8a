#!/usr/bin/env bash
# Installs what the tests need besides Go: the PostgreSQL server binaries
# (scripts/install-postgres.sh) and the guide's stack: SQLAlchemy 1.4's
# async engine over asyncpg, which the SQLAlchemy parity test
# (engine/sqla_parity_test.go) runs as its reference, and FastAPI with
# uvicorn, which the reference service (examples/service) runs on; for
# /usr/bin/python3; promtool and prometheus (Debian's prometheus package)
# for the alert rules' tests; curl, jq and unzip for the GitHub Action's
# scripts. Idempotent: installs nothing that is already there.
#
#   Debian/Ubuntu: apt-get install -y python3-sqlalchemy python3-asyncpg python3-fastapi python3-uvicorn
#   macOS:         pip install 'sqlalchemy<2' asyncpg fastapi uvicorn
#                  (for the python3 that PLANRUN_PYTHON names; default python3)
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*" >&2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/install-postgres.sh"

# The interpreter the parity test runs (engine/sqla_parity_test.go looks
# for PLANRUN_PYTHON, then /usr/bin/python3, then python3 on PATH).
python="${PLANRUN_PYTHON:-}"
if [[ -z "$python" ]]; then
	if [[ -x /usr/bin/python3 ]]; then
		python=/usr/bin/python3
	else
		python="$(command -v python3 || true)"
	fi
fi

has_stack() {
	[[ -n "$python" ]] && "$python" -c 'import sqlalchemy, asyncpg, fastapi, uvicorn, sys; sys.exit(0 if sqlalchemy.__version__.startswith("1.4") else 1)' >/dev/null 2>&1
}

# shellcheck source=as-root.sh
source "$(dirname "${BASH_SOURCE[0]}")/as-root.sh"

# promtool checks and unit-tests the rules `planrun alerts` writes
# (alerts/alerts_test.go), and prometheus evaluates them end to end
# (alerts/prometheus_test.go); Debian's prometheus package ships both.
#   macOS: brew install prometheus
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
	if command -v apt-get >/dev/null 2>&1; then
		log "installing prometheus (for promtool) with apt-get"
		prom=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus)
		as_root "${prom[@]}" || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update && as_root "${prom[@]}"; }
	else
		log "promtool not found and no apt-get: install Prometheus (macOS: brew install prometheus); without it the alert rule tests are skipped, except in CI"
	fi
else
	log "promtool and prometheus already installed: $(command -v promtool), $(command -v prometheus)"
fi

# The GitHub Action's scripts (scripts/action) call the REST API with curl,
# read it with jq and unpack the baseline artifact with unzip; their tests
# run them. GitHub's runners have all three.
#   macOS: brew install jq (curl and unzip ship with the system)
missing=()
for tool in curl jq unzip; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
	if command -v apt-get >/dev/null 2>&1; then
		log "installing ${missing[*]} with apt-get"
		tools=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}")
		as_root "${tools[@]}" || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update && as_root "${tools[@]}"; }
	else
		log "${missing[*]} not found and no apt-get: install them (macOS: brew install jq); the action's tests need them"
	fi
fi

if has_stack; then
	log "SQLAlchemy 1.4, asyncpg, FastAPI and uvicorn already importable by $python"
	exit 0
fi

if command -v apt-get >/dev/null 2>&1 && [[ "$python" == /usr/bin/python3 || -z "$python" ]]; then
	log "installing python3-sqlalchemy, python3-asyncpg, python3-fastapi and python3-uvicorn with apt-get"
	install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-sqlalchemy python3-asyncpg python3-fastapi python3-uvicorn)
	if ! as_root "${install[@]}"; then
		log "install failed; refreshing package lists and retrying"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update
		as_root "${install[@]}"
	fi
	python=/usr/bin/python3
	if has_stack; then
		log "SQLAlchemy $("$python" -c 'import sqlalchemy; print(sqlalchemy.__version__)'), asyncpg, FastAPI and uvicorn installed for $python"
		exit 0
	fi
	log "the install finished but $python cannot import SQLAlchemy 1.4, asyncpg, FastAPI and uvicorn"
	exit 1
fi

log "cannot install the guide's stack here (no apt-get, or PLANRUN_PYTHON is not Debian's python3)."
log "Run: ${python:-python3} -m pip install 'sqlalchemy<2' asyncpg fastapi uvicorn"
log "(and PLANRUN_PYTHON=/path/to/that/python3 when it is not /usr/bin/python3)."
log "Without it the SQLAlchemy parity test and the reference service's test are skipped, except in CI (CI set), where they fail."
if [[ -n "${CI:-}" ]]; then
	exit 1
fi
exit 0
