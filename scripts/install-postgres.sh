#!/usr/bin/env bash
# Installs the PostgreSQL server binaries (initdb, pg_ctl, postgres) that
# engine/localpg starts a throwaway server from. Idempotent: exits 0 at once
# when they are already found, looking where localpg.FindBinaries looks.
#
#   Debian/Ubuntu: apt-get install -y postgresql (with sudo when not root)
#   macOS:         brew install postgresql@16
#
# planrun never uses the distribution's own cluster or service.
# Instead of installing, DATABASE_URL / PLANRUN_TEST_DATABASE_URL can name
# an existing server.
set -euo pipefail

log() { printf 'install-postgres: %s\n' "$*" >&2; }

# has_binaries DIR: DIR holds initdb, pg_ctl and postgres, all executable.
has_binaries() {
	[[ -n "$1" && -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]
}

# find_binaries prints the first directory holding the three binaries, in
# localpg.FindBinaries order, and fails when there is none.
find_binaries() {
	local -a dirs path_dirs
	local dir
	IFS=: read -r -a path_dirs <<<"${PATH:-}"
	dirs=("${path_dirs[@]}")
	if command -v pg_config >/dev/null 2>&1; then
		dirs+=("$(pg_config --bindir 2>/dev/null || true)")
	fi
	shopt -s nullglob
	dirs+=(/usr/lib/postgresql/*/bin /opt/homebrew/opt/postgresql@*/bin /usr/local/opt/postgresql@*/bin)
	shopt -u nullglob
	dirs+=(/opt/homebrew/bin /usr/local/bin)
	for dir in "${dirs[@]}"; do
		if has_binaries "$dir"; then
			printf '%s\n' "$dir"
			return 0
		fi
	done
	return 1
}

# shellcheck source=as-root.sh
source "$(dirname "${BASH_SOURCE[0]}")/as-root.sh"

apt_install() {
	local -a install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)
	local -a update=(env DEBIAN_FRONTEND=noninteractive apt-get update)
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		log "package lists are empty: apt-get update"
		as_root "${update[@]}"
	fi
	if ! as_root "${install[@]}"; then
		log "install failed; refreshing package lists and retrying"
		as_root "${update[@]}"
		as_root "${install[@]}"
	fi
}

main() {
	local dir
	if dir="$(find_binaries)"; then
		log "PostgreSQL server binaries already installed in $dir"
		return 0
	fi

	if command -v apt-get >/dev/null 2>&1; then
		log "installing PostgreSQL with apt-get"
		apt_install
	elif command -v brew >/dev/null 2>&1; then
		log "installing PostgreSQL with Homebrew"
		brew install postgresql@16
	else
		log "cannot install PostgreSQL here: neither apt-get nor brew found."
		log "Install the PostgreSQL server binaries (initdb, pg_ctl, postgres) with your package manager,"
		log "or point DATABASE_URL (planrun) / PLANRUN_TEST_DATABASE_URL (tests) at an existing server."
		return 1
	fi

	if dir="$(find_binaries)"; then
		log "PostgreSQL server binaries installed in $dir"
		return 0
	fi
	log "the install finished but initdb, pg_ctl and postgres are still not found"
	return 1
}

main "$@"
