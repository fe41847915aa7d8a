# shellcheck shell=bash
# Helpers shared by the action's scripts (run.sh, comment.sh, gate.sh);
# sourced, never run. Nothing here prints a secret: the database URL and
# the token are only ever passed in the environment or through a file
# descriptor, never on a command line or in a message.

# log writes one line to stderr, where a workflow's log shows it.
log() { printf 'planrun-action: %s\n' "$*" >&2; }

# annotate LEVEL MESSAGE writes a workflow command (notice, warning or
# error) that GitHub shows on the job's page; newlines and % are escaped as
# the runner wants them, so a message cannot inject a command of its own.
annotate() {
	local level="$1" msg="$2"
	msg="${msg//'%'/%25}"
	msg="${msg//$'\r'/%0D}"
	msg="${msg//$'\n'/%0A}"
	printf '::%s title=planrun::%s\n' "$level" "$msg"
}

# set_output NAME VALUE appends one step output to $GITHUB_OUTPUT in the
# multi-line form (NAME<<DELIMITER), with a delimiter that is not in VALUE,
# so a value with a newline or a "=" cannot forge another output. Without
# $GITHUB_OUTPUT (a run outside Actions) it only logs the pair.
set_output() {
	local name="$1" value="$2" delim
	if [[ -z "${GITHUB_OUTPUT:-}" ]]; then
		log "output $name=$value"
		return 0
	fi
	delim="planrun_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	while [[ "$value" == *"$delim"* ]]; do
		delim="${delim}_$RANDOM"
	done
	printf '%s<<%s\n%s\n%s\n' "$name" "$delim" "$value" "$delim" >>"$GITHUB_OUTPUT"
}

# summary appends its arguments, one line each, to $GITHUB_STEP_SUMMARY
# (no-op without it).
summary() {
	[[ -n "${GITHUB_STEP_SUMMARY:-}" ]] || return 0
	printf '%s\n' "$@" >>"$GITHUB_STEP_SUMMARY"
}

# verdict_name CODE prints the word the action's `verdict` output gives for
# planrun's exit code CODE (README "Exit codes").
verdict_name() {
	case "$1" in
	0) echo approved ;;
	1) echo not-approved ;;
	2) echo invalid-plan ;;
	3) echo could-not-run ;;
	4) echo aborted ;;
	5) echo inconclusive ;;
	*) echo unknown ;;
	esac
}

# parse_fail_on SPEC prints the fail-on words of SPEC, one a line, after
# checking them: a comma- or space-separated list of not-approved
# (always in force), inconclusive and regression. Empty means
# not-approved. It fails, saying why, on any other word.
parse_fail_on() {
	local spec="${1,,}" word
	local -a words
	spec="${spec//,/ }"
	read -r -a words <<<"$spec"
	echo not-approved
	for word in "${words[@]}"; do
		case "$word" in
		not-approved) ;;
		inconclusive | regression) echo "$word" ;;
		*)
			log "fail-on: unknown value \"$word\"; use not-approved, inconclusive or regression (several: \"inconclusive, regression\")"
			return 1
			;;
		esac
	done
}

# decide CODE REGRESSION FAIL_ON is the action's last word: it returns 0
# when the job passes and 1 when it fails, and says why in an annotation.
# CODE is planrun's exit code for the run (empty: the run step never got
# that far), REGRESSION is "true" when `planrun compare` found a
# regression against the baseline ("false" or empty otherwise), FAIL_ON the
# input. Exit codes 1 (not approved), 2 (invalid plan), 3 (could not run)
# and 4 (aborted or interrupted) always fail; 5 (inconclusive) fails with
# fail-on inconclusive, a regression with fail-on regression.
decide() {
	local code="$1" regression="$2" words
	words="$(parse_fail_on "$3")" || return 1
	local on_inconclusive=false on_regression=false
	[[ $'\n'"$words"$'\n' == *$'\n'inconclusive$'\n'* ]] && on_inconclusive=true
	[[ $'\n'"$words"$'\n' == *$'\n'regression$'\n'* ]] && on_regression=true

	local verdict failed=false
	verdict="$(verdict_name "$code")"
	case "$code" in
	0) ;;
	5)
		if $on_inconclusive; then
			annotate error "the run is INCONCLUSIVE (exit 5: a critical check was within the run's own measurement error) and fail-on includes inconclusive"
			failed=true
		else
			annotate warning "the run is INCONCLUSIVE (exit 5: a critical check was within the run's own measurement error); not failing the job (fail-on: inconclusive would)"
		fi
		;;
	1 | 2 | 3 | 4)
		annotate error "planrun exited $code ($verdict): see the run step's log and the report"
		failed=true
		;;
	'')
		annotate error "the run step gave no exit code: planrun did not run (see the run step's log)"
		failed=true
		;;
	*)
		annotate error "planrun exited $code, which is not one of its documented codes"
		failed=true
		;;
	esac
	if [[ "$regression" == true ]]; then
		if $on_regression; then
			annotate error "a regression against the baseline, beyond the tolerance and the noise (planrun compare), and fail-on includes regression"
			failed=true
		else
			annotate notice "a regression against the baseline (planrun compare); not failing the job (fail-on: regression would)"
		fi
	fi
	if $failed; then
		return 1
	fi
	log "passed: verdict $verdict${regression:+, regression $regression}, fail-on ${3:-not-approved}"
	return 0
}
