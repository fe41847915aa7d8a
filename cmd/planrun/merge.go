package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/merge"
	"github.com/planrun/planrun/recommend"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// cmdMerge merges the JSON reports of a plan's segments (planrun PLAN
// --segment i/N) into one run record, evaluates the plan's assertions on it
// and reports like a run: the table (or --format) on stdout, the report
// files with --out, and the verdict's exit code. It refuses with exit 2
// reports that do not make one run (package merge says which) and a plan
// file that is not the one the segments ran (its sha256 differs). The plan
// is --plan, by default the file the reports name (relative to the current
// directory, as when it ran).
func cmdMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun merge", stderr)
	format := fs.String("format", "table", "stdout format: "+strings.Join(report.Formats, ", "))
	out := fs.String("out", "", "directory for the merged JSON, markdown and JUnit reports")
	planPath := fs.String("plan", "", "the plan the segments ran (default: the plan file the reports name)")
	baselinePath := fs.String("baseline", "", "an earlier JSON report whose figures assertions see as baseline.*")
	noColor := fs.Bool("no-color", false, "no ANSI colour")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "planrun: merge takes the JSON reports of every segment: planrun merge A.json B.json ... [--out DIR]")
		return ExitUsage
	}
	if !checkFormat(*format, stderr) {
		return ExitUsage
	}
	if *out != "" {
		if err := checkWritable(*out); err != nil {
			fmt.Fprintf(stderr, "planrun: --out: %v\n", err)
			return ExitUsage
		}
	}
	// One budget for every report the command reads (results.Budget):
	// forged reports cannot add up to more memory than it allows.
	budget := results.NewBudget()
	inputs := make([]merge.Input, len(pos))
	for i, path := range pos {
		run, err := budget.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "planrun: %v\n", err)
			return ExitUsage
		}
		inputs[i] = merge.Input{File: path, Run: run}
	}
	run, err := merge.Runs(inputs)
	if err != nil {
		fmt.Fprintf(stderr, "planrun: merge: %s\n", printable.String(err.Error()))
		return ExitUsage
	}
	fmt.Fprintf(stderr, "planrun: merged %s: %s\n", plural(run.Merged.Segments, "segment", "segments"), printable.String(strings.Join(run.Merged.Files, ", ")))
	plan, set, code := mergePlan(*planPath, run.Plan, stderr)
	if plan == nil {
		return code
	}
	var baseline *results.Run
	if *baselinePath != "" {
		if baseline, err = budget.ReadFile(*baselinePath); err != nil {
			fmt.Fprintf(stderr, "planrun: --baseline: %v\n", err)
			return ExitUsage
		}
	}
	if err := report.CheckGitHubSummary(); err != nil {
		fmt.Fprintf(stderr, "planrun: GITHUB_STEP_SUMMARY: %v\n  nothing was merged; point it at a file planrun can append to, or unset it\n", err)
		return ExitUsage
	}

	run.Assertions, run.Verdict = set.Evaluate(run, baseline)
	run.Recommendations = recommend.For(run, plan)
	run = report.Redact(run, redact.New(redact.Passwords(plan.Target.URL)...))
	lost := !deliver(run, *format, !*noColor && isTerminal(stdout) && *format == "table", *out, time.Now(), stdout, stderr)
	return withLostReports(exitCode(run, nil, stderr), lost)
}

// mergePlan loads the plan the segments ran (path, or the file they name)
// and compiles its assertions. It returns a nil plan and the exit code when
// the file cannot be read, is invalid, or is not the plan that ran.
func mergePlan(path string, ran results.PlanInfo, stderr io.Writer) (*schema.Plan, *assertions.Set, int) {
	if path == "" {
		path = ran.File
	}
	if path == "" {
		fmt.Fprintln(stderr, "planrun: merge: the reports name no plan file; give the plan they ran with --plan PATH")
		return nil, nil, ExitUsage
	}
	plan, err := schema.LoadPartial(path)
	if plan != nil && plan.SHA256 != ran.SHA256 {
		fmt.Fprintf(stderr, "planrun: merge: the plan changed since the run: %s has sha256 %s, the segments ran %s\n  give the plan they ran with --plan PATH\n",
			path, plan.SHA256, ran.SHA256)
		return nil, nil, ExitUsage
	}
	var all schema.Errors
	collect(&all, err)
	if plan == nil {
		printPlanErrors(stderr, all)
		return nil, nil, ExitUsage
	}
	set, err := assertions.Compile(plan)
	collect(&all, err)
	if len(all) > 0 {
		all.Sort()
		printPlanErrors(stderr, all)
		return nil, nil, ExitUsage
	}
	return plan, set, ExitApproved
}
