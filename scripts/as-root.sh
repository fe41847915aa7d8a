# as_root runs a command as root: directly, or through sudo. Sourced by the
# install scripts, which define log() first.
as_root() {
	if [[ "$(id -u)" -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		log "need root to run: $*  (no sudo found)"
		return 1
	fi
}
