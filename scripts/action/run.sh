#!/usr/bin/env bash
# The action's run step (action.yml, docs/action.md): runs the plan with
# --out into a fresh directory, writes the step outputs, keeps the JSON
# report as the baseline on a push to the default branch, and on a pull
# request fetches the base branch's baseline and compares the run with it.
# It exits 0 once the outputs are written, whatever the verdict: gate.sh
# decides the job's fate after the reports are uploaded and the comment
# posted. It exits non-zero only when it cannot do its part (bad input,
# no planrun binary).
#
# Environment (action.yml maps the inputs to these):
#   INPUT_PLAN          the plan file (required)
#   INPUT_DATABASE_URL  exported as DATABASE_URL when set (masked in the log;
#                       empty: the plan's target.url decides, a bare
#                       ${DATABASE_URL} meaning planrun's embedded server)
#   INPUT_ARGS          extra flags for the run, split like a shell would
#                       (quotes, no expansion); --out is the action's
#   INPUT_BASELINE      empty: the base branch's last report (pull requests)
#                       and keeping this one (pushes to the default branch);
#                       else a JSON report to compare with
#   INPUT_FAIL_ON       checked here, before the run (gate.sh applies it)
#   PLANRUN_BIN         the planrun binary (default: planrun on PATH)
#   PLANRUN_OUT_DIR     where the reports go (default: a new directory
#                       under $RUNNER_TEMP)
#   GITHUB_TOKEN, GITHUB_API_URL (default https://api.github.com),
#   GITHUB_REPOSITORY, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REF,
#   GITHUB_BASE_REF, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY: as GitHub sets them.
#
# Outputs: verdict, exit-code, report-json, report-html, report-markdown,
# report-dir, name, artifact-name, baseline-artifact (set when this run is
# to be kept as the baseline), baseline-json (the report compared with),
# comparison-markdown, regression (true/false; empty without a comparison).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

plan="${INPUT_PLAN:-}"
bin="${PLANRUN_BIN:-planrun}"
if [[ -z "$plan" ]]; then
	annotate error "the plan input is required (a plan file, e.g. plans/production.yaml)"
	exit 2
fi
# A typo in fail-on fails now, not after a long run.
if ! parse_fail_on "${INPUT_FAIL_ON:-}" >/dev/null; then
	annotate error "fail-on \"${INPUT_FAIL_ON:-}\": use not-approved, inconclusive or regression (several: \"inconclusive, regression\")"
	exit 2
fi
if ! command -v "$bin" >/dev/null 2>&1; then
	annotate error "planrun binary not found: $bin"
	exit 2
fi

# The database URL carries a password: the runner masks it (and the
# password alone) from here on; planrun redacts it in its own output.
if [[ -n "${INPUT_DATABASE_URL:-}" ]]; then
	printf '::add-mask::%s\n' "$INPUT_DATABASE_URL"
	if [[ "$INPUT_DATABASE_URL" =~ ^[A-Za-z][A-Za-z0-9+.-]*://[^:@/]*:([^@/]+)@ ]]; then
		password="${BASH_REMATCH[1]}"
		printf '::add-mask::%s\n' "$password"
		decoded="$(printf '%b' "${password//%/\\x}")" # percent-decoded
		if [[ "$decoded" != "$password" ]]; then
			printf '::add-mask::%s\n' "$decoded"
		fi
	fi
	export DATABASE_URL="$INPUT_DATABASE_URL"
fi

# The extra flags, split as a shell would (quotes, backslashes), with no
# expansion: xargs does the splitting, eval never runs.
extra=()
args_in="${INPUT_ARGS:-}"
if [[ -n "${args_in//[[:space:]]/}" ]]; then
	split="$(mktemp)"
	if ! printf '%s' "$args_in" | xargs printf '%s\0' >"$split"; then
		rm -f "$split"
		annotate error "args: cannot split \"$args_in\" into flags (an unbalanced quote?)"
		exit 2
	fi
	mapfile -d '' -t extra <"$split"
	rm -f "$split"
fi

out_dir="${PLANRUN_OUT_DIR:-}"
if [[ -z "$out_dir" ]]; then
	tmp_root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
	mkdir -p "$tmp_root"
	out_dir="$(mktemp -d "$tmp_root/planrun-reports.XXXXXX")"
fi
mkdir -p "$out_dir"

# The run. --out comes last so that it wins over one in args.
log "planrun run $plan ${extra[*]} --out $out_dir"
set +e
"$bin" run "$plan" "${extra[@]}" --out "$out_dir"
code=$?
set -e
verdict="$(verdict_name "$code")"
log "planrun exited $code ($verdict)"
set_output exit-code "$code"
set_output verdict "$verdict"

shopt -s nullglob
jsons=("$out_dir"/*.json)
shopt -u nullglob
if ((${#jsons[@]} != 1)); then
	# An invalid plan (2) or a run that could not start writes no report;
	# planrun said why on stderr.
	summary "**planrun** exited $code ($verdict) without a report: see the job's log."
	log "no report in $out_dir (${#jsons[@]} JSON files)"
	exit 0
fi
report_json="${jsons[0]}"
base="${report_json%.json}"
file="$(basename "$base")"
# The report's name is <plan>_<YYYYMMDD_HHMMSS_mmm>[-N] (report.FileBase):
# the plan's name, already reduced to [A-Za-z0-9._-].
name="$file"
if [[ "$file" =~ ^(.+)_[0-9]{8}_[0-9]{6}_[0-9]{3}(-[0-9]+)?$ ]]; then
	name="${BASH_REMATCH[1]}"
fi
set_output report-dir "$out_dir"
set_output report-json "$report_json"
[[ -f "$base.html" ]] && set_output report-html "$base.html"
[[ -f "$base.md" ]] && set_output report-markdown "$base.md"
set_output name "$name"
set_output artifact-name "planrun-$file"
baseline_artifact="planrun-baseline-$name"

# event_field JQ prints one field of the event payload (empty when absent
# or when the payload or jq is missing).
event_field() {
	[[ -n "${GITHUB_EVENT_PATH:-}" && -f "$GITHUB_EVENT_PATH" ]] || return 0
	command -v jq >/dev/null 2>&1 || return 0
	jq -r "$1 // empty" "$GITHUB_EVENT_PATH" 2>/dev/null || true
}

# api_get URL DEST fetches URL from the GitHub API (following redirects, as
# an artifact download does) into DEST. The token goes in a header read
# from a file descriptor, never on the command line; curl does not send it
# on to another host after a redirect.
api_get() {
	curl --fail --silent --show-error --location --retry 3 --max-time 120 \
		-H @<(printf 'Authorization: Bearer %s\n' "${GITHUB_TOKEN:-}") \
		-H 'Accept: application/vnd.github+json' \
		-H 'X-GitHub-Api-Version: 2022-11-28' \
		-o "$2" "$1"
}

# fetch_baseline REF DIR downloads the newest unexpired artifact named
# $baseline_artifact that a run on branch REF of this repository uploaded
# and prints the path of the JSON report it holds. When there is none or it
# cannot be had, it prints why instead (one line) and fails.
fetch_baseline() {
	local ref="$1" dir="$2" api tool url found
	for tool in curl jq unzip; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "$tool is not installed"
			return 1
		fi
	done
	if [[ -z "${GITHUB_TOKEN:-}" || -z "${GITHUB_REPOSITORY:-}" ]]; then
		echo "GITHUB_TOKEN or GITHUB_REPOSITORY is not set"
		return 1
	fi
	api="${GITHUB_API_URL:-https://api.github.com}"
	api="${api%/}"
	if ! api_get "$api/repos/$GITHUB_REPOSITORY/actions/artifacts?name=$baseline_artifact&per_page=100" "$dir/artifacts.json" 2>"$dir/curl.err"; then
		echo "listing the artifacts failed ($(head -c 300 "$dir/curl.err"); the workflow needs permissions: actions: read)"
		return 1
	fi
	url="$(jq -r --arg ref "$ref" '
		[.artifacts[]?
		 | select(.expired != true and .workflow_run.head_branch == $ref
		          and (.workflow_run.head_repository_id == null
		               or .workflow_run.head_repository_id == .workflow_run.repository_id))]
		| sort_by(.created_at) | reverse | .[0].archive_download_url // empty' "$dir/artifacts.json")" || {
		echo "the artifact listing is not the JSON expected"
		return 1
	}
	if [[ -z "$url" ]]; then
		echo "no artifact $baseline_artifact from branch $ref (it is kept by a push to the default branch whose run is approved)"
		return 1
	fi
	if ! api_get "$url" "$dir/baseline.zip" 2>"$dir/curl.err"; then
		echo "downloading $baseline_artifact failed ($(head -c 300 "$dir/curl.err"))"
		return 1
	fi
	mkdir -p "$dir/baseline"
	if ! unzip -q -o "$dir/baseline.zip" -d "$dir/baseline" 2>"$dir/unzip.err"; then
		echo "$baseline_artifact is not a zip archive ($(head -c 300 "$dir/unzip.err"))"
		return 1
	fi
	found="$(find "$dir/baseline" -type f -name '*.json' | sort | head -n 1)"
	if [[ -z "$found" ]]; then
		echo "$baseline_artifact holds no JSON report"
		return 1
	fi
	printf '%s\n' "$found"
}

event="${GITHUB_EVENT_NAME:-}"
baseline_json=""
baseline_from=""
if [[ -n "${INPUT_BASELINE:-}" ]]; then
	if [[ -f "$INPUT_BASELINE" ]]; then
		baseline_json="$INPUT_BASELINE"
		baseline_from="$INPUT_BASELINE"
	else
		annotate warning "baseline: $INPUT_BASELINE is not a file; no comparison"
	fi
elif [[ "$event" == pull_request || "$event" == pull_request_target ]]; then
	base_ref="${GITHUB_BASE_REF:-}"
	[[ -n "$base_ref" ]] || base_ref="$(event_field .pull_request.base.ref)"
	fetch_dir="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/planrun-baseline.XXXXXX")"
	if [[ -z "$base_ref" ]]; then
		annotate notice "no baseline: the pull request's base branch is unknown; no comparison"
	elif got="$(fetch_baseline "$base_ref" "$fetch_dir")"; then
		baseline_json="$got"
		baseline_from="the last approved run on $base_ref"
		log "baseline: $baseline_artifact from $base_ref"
	else
		annotate notice "no baseline: $got; no comparison"
		summary "" "_No comparison: $got._"
	fi
elif [[ "$event" == push && "$code" == 0 ]]; then
	default_branch="$(event_field .repository.default_branch)"
	if [[ -n "$default_branch" && "${GITHUB_REF:-}" == "refs/heads/$default_branch" ]]; then
		set_output baseline-artifact "$baseline_artifact"
		log "this approved run on $default_branch is kept as the baseline artifact $baseline_artifact"
	fi
fi

if [[ -n "$baseline_json" ]]; then
	set_output baseline-json "$baseline_json"
	comparison="$out_dir/comparison.md"
	set +e
	"$bin" compare "$baseline_json" "$report_json" --format markdown >"$comparison"
	cmp=$?
	set -e
	case "$cmp" in
	0 | 1)
		regression=false
		[[ "$cmp" == 1 ]] && regression=true
		set_output regression "$regression"
		set_output comparison-markdown "$comparison"
		heading="Compared with $baseline_from"
		[[ "$regression" == true ]] && heading="$heading: regression"
		summary "" "## $heading" ""
		[[ -n "${GITHUB_STEP_SUMMARY:-}" ]] && cat "$comparison" >>"$GITHUB_STEP_SUMMARY"
		log "compared with $baseline_from: regression $regression"
		;;
	*)
		rm -f "$comparison"
		annotate warning "planrun compare could not compare with $baseline_from (exit $cmp; a report of another plan?); no comparison"
		;;
	esac
fi
exit 0
