// Command planrun runs a declarative load-test plan against a PostgreSQL
// connection pool and ends with a verdict and an exit code CI can gate on.
//
//	planrun PLAN.yaml [flags]          run a plan (also: planrun run PLAN.yaml)
//	planrun validate PLAN.yaml...      check plans without connecting
//	planrun preflight PLAN.yaml        run only the preflight checks
//	planrun report RUN.json            re-render a saved JSON report (exit 0; --exit-code: the run's code)
//	planrun compare BASE.json... NEW.json compare saved runs (one or more baselines, then the new run)
//	planrun merge A.json B.json...     merge a plan's segment reports into one run and verdict
//	planrun tune PLAN.yaml --scenario NAME find the smallest pool that passes, by runs
//	planrun schema                     print the plan's JSON Schema
//	planrun alerts PLAN.yaml           print Prometheus alerting rules from the plan
//	planrun watch PLAN.yaml --for 48h  hold the deployed service's pool to the plan, from the server
//	planrun comment RUN.json           post or update the run's pull-request comment (GitHub Actions)
//	planrun version
//
// Exit codes: 0 approved, 1 not approved (or a regression in compare),
// 2 invalid plan or usage, 3 could not run, 4 aborted by an assertion or
// interrupted (SIGINT, SIGTERM, SIGHUP or SIGQUIT: the first stops the load,
// the second the teardown, the third exits at once; see signals.go),
// 5 inconclusive (a critical check was within the run's own measurement
// error, and none failed outright).
// `planrun report` exits 0 once it rendered (2 when it cannot read or render
// the file); with --exit-code it exits with the code the saved run gave.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes, documented in the README.
const (
	ExitApproved    = 0
	ExitNotApproved = 1
	ExitUsage       = 2
	ExitCouldNotRun = 3
	ExitAborted     = 4
	// ExitInconclusive: the verdict is INCONCLUSIVE (the measurement
	// criterion failed), neither approved nor not approved.
	ExitInconclusive = 5
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the CLI with args (without the program name) and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest, stdout, stderr)
	case "validate":
		return cmdValidate(rest, stdout, stderr)
	case "preflight":
		return cmdPreflight(rest, stdout, stderr)
	case "report":
		return cmdReport(rest, stdout, stderr)
	case "compare":
		return cmdCompare(rest, stdout, stderr)
	case "merge":
		return cmdMerge(rest, stdout, stderr)
	case "tune":
		return cmdTune(rest, stdout, stderr)
	case "schema":
		return cmdSchema(rest, stdout, stderr)
	case "alerts":
		return cmdAlerts(rest, stdout, stderr)
	case "watch":
		return cmdWatch(rest, stdout, stderr)
	case "comment":
		return cmdComment(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "planrun", version)
		return ExitApproved
	case "help", "-h", "--help":
		usage(stdout)
		return ExitApproved
	}
	return cmdRun(args, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `planrun: declarative load tests for PostgreSQL connection pools

Usage:
  planrun PLAN.yaml [flags]            run a plan (same as: planrun run PLAN.yaml)
  planrun validate PLAN.yaml...        check plans without connecting (exit 0 or 2)
  planrun preflight PLAN.yaml          run only the preflight checks (exit 0, 3 failed, 4 interrupted)
  planrun report RUN.json [--format F] re-render a saved JSON report (exit 0)
  planrun compare BASE.json... NEW.json
                                       compare a new run with one or more baselines
                                       (exit 1 on a regression beyond tolerance and noise)
  planrun merge A.json B.json ... [--out DIR] [--format F] [--plan PATH]
                                       merge the reports of a plan's segments (--segment i/N)
                                       into one run, verdict and exit code (2: they do not fit)
  planrun tune PLAN.yaml --scenario NAME [--size A..B] [--overflow A..B]
                                       run one scenario at several pool sizes (bisection) and
                                       print the smallest that passes the critical assertions
                                       (exit 0 found, 1 none in the range, 5 inconclusive; docs/tune.md)
  planrun schema                       print the plan's JSON Schema
  planrun alerts PLAN.yaml [--format prometheus|prometheusrule] [--source postgres_exporter|watch]
                                       print Prometheus alerting rules from the plan (docs/alerts.md)
  planrun watch PLAN.yaml [--for 48h] [--interval 1s] [--report-every 1h] [--out DIR] [--format F] [--metrics-addr HOST:PORT]
                                       watch the deployed service's pool on the plan's server, no load:
                                       service figures, assertions, live metrics, a report; exit by verdict
                                       (4 when stopped; docs/watch.md)
  planrun comment RUN.json [--baseline BASE.json] [--name NAME] [--artifact-url URL] [--event PATH]
                                       post the report as one pull-request comment, or update it
                                       (GitHub Actions; exit 0 also when not a pull request or a
                                       fork's token may not comment, 1 not posted; docs/ci.md)
  planrun version

Run flags:
  --scenario NAME     run only this scenario (repeatable)
  --time-scale F      multiply every scenario duration by F (e.g. 0.05 for a rehearsal)
  --format F          what goes to stdout: table (default), markdown, json, junit, html
  --out DIR           also write <plan>_<YYYYMMDD_HHMMSS_mmm>.json/.md/.xml/.html into DIR
                      (never replacing a file: a taken name gets -2, -3, ...)
  --baseline RUN.json make an earlier run's figures available as baseline.*
  --segment i/N       run only the i-th of N slices of the plan: a share of every
                      scenario's users and rates and a block of its replicas
                      (1 ≤ i ≤ N ≤ 1000; one process per slice; see docs/segments.md)
  --start-at TIME     begin the first scenario at this RFC 3339 instant
                      (e.g. 2025-06-01T12:00:00Z): every segment starts together
  --metrics-addr HOST:PORT
                      serve live Prometheus metrics at /metrics while the plan runs
                      (a port alone, :9464, binds to 127.0.0.1; default off)
  --metrics-linger D  keep the metrics endpoint up for D after the report (e.g. 30s)
  --quiet             no live progress on stderr
  --no-color          no ANSI colour even on a terminal

Preflight flags: --format F, --quiet, --no-color, --segment i/N (as for a run).
Validate flags: --segment i/N (also checks that the plan can be split so).

Tune flags:
  --scenario NAME     the scenario to run (required)
  --size A..B         the pool.size range to bisect (default 1..2×(size+max_overflow)),
                      max_overflow fixed at the plan's
  --overflow A..B     then bisect max_overflow over A..B at the size found
  --time-scale F, --format table|markdown|json|html, --quiet: as for a run
  --out DIR           also write <plan>_tune_<YYYYMMDD_HHMMSS_mmm>.json/.md/.html into DIR

Report flags:
  --format F          table (default), markdown, json, junit, html
  --no-color          no ANSI colour even on a terminal
  --exit-code         exit with the saved run's code (0, 1, 3, 4 or 5) instead of 0

Merge flags:
  --plan PATH         the plan the segments ran (default: the file the reports name;
                      its sha256 must equal the reports')
  --format F, --out DIR, --baseline RUN.json, --no-color: as for a run

Exit codes: 0 approved, 1 not approved, 2 invalid plan or usage,
            3 could not run, 4 aborted by an assertion or interrupted,
            5 inconclusive: a critical check was within the run's own
              measurement error (planrun short of CPU), and none failed.

Stopping: Ctrl-C, SIGTERM, SIGHUP and SIGQUIT stop a run alike. The first
stops the load (teardown and reports follow), a second stops the teardown
(listing the statements that did not run), a third exits at once; all exit 4.
`)
}
