#!/usr/bin/env bash
# The action's comment step (action.yml, docs/action.md): posts the run's
# report as one sticky pull-request comment, updated by every later run of
# the same plan, with the comparison against the baseline on top:
# `planrun comment` does the work (it exits 0 outside a pull request and on
# a fork's read-only token, saying so). A comment that cannot be posted is a
# warning, never the job's failure: the verdict is gate.sh's.
#
# Environment (action.yml maps the inputs and the run step's outputs):
#   INPUT_COMMENT          "true" to comment (anything else: skip)
#   PLANRUN_REPORT_JSON    the run's JSON report (required)
#   PLANRUN_BASELINE_JSON  the report it was compared with (optional)
#   PLANRUN_ARTIFACT_URL   where the reports artifact is (optional; default:
#                          the workflow run's page, which lists it)
#   PLANRUN_BIN            the planrun binary (default: planrun on PATH)
#   GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH:
#                          read by `planrun comment`
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

if [[ "${INPUT_COMMENT:-true}" != true ]]; then
	log "comment: ${INPUT_COMMENT:-}: not commenting"
	exit 0
fi
report="${PLANRUN_REPORT_JSON:-}"
if [[ -z "$report" || ! -f "$report" ]]; then
	log "no report to comment with"
	exit 0
fi
bin="${PLANRUN_BIN:-planrun}"

args=(comment)
if [[ -n "${PLANRUN_BASELINE_JSON:-}" ]]; then
	args+=(--baseline "$PLANRUN_BASELINE_JSON")
fi
url="${PLANRUN_ARTIFACT_URL:-}"
if [[ -z "$url" && -n "${GITHUB_SERVER_URL:-}" && -n "${GITHUB_REPOSITORY:-}" && -n "${GITHUB_RUN_ID:-}" ]]; then
	url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
fi
if [[ -n "$url" ]]; then
	args+=(--artifact-url "$url")
fi
args+=("$report")

set +e
"$bin" "${args[@]}"
code=$?
set -e
if [[ "$code" != 0 ]]; then
	annotate warning "planrun comment exited $code: no pull-request comment (the report is in the step summary and the artifact)"
fi
exit 0
