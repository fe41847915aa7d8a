#!/usr/bin/env bash
# The action's last step (action.yml, docs/action.md): passes or fails the
# job by the run's exit code, the comparison and the fail-on input
# (lib.sh's decide says how).
#
# Environment: PLANRUN_EXIT_CODE and PLANRUN_REGRESSION (the run step's
# exit-code and regression outputs), INPUT_FAIL_ON.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

if decide "${PLANRUN_EXIT_CODE:-}" "${PLANRUN_REGRESSION:-}" "${INPUT_FAIL_ON:-}"; then
	exit 0
fi
exit 1
