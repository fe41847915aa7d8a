package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/recommend"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// cmdValidate checks plans without connecting: exit 0 when every plan is
// valid, 2 otherwise, with every problem of every plan printed.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun validate", stderr)
	var seg segmentFlags
	seg.register(fs, false)
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "planrun: validate takes one or more plan files")
		return ExitUsage
	}
	code := ExitApproved
	for _, path := range paths {
		prog, set, c := loadPlan(path, engine.Options{Segment: seg.segment(stderr)}, stderr)
		if prog == nil {
			code = c
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %s, %s of load)\n", path,
			plural(len(prog.ScenarioNames()), "scenario", "scenarios"), plural(set.Len(), "assertion", "assertions"), prog.Duration())
	}
	return code
}

// cmdPreflight resolves the target and runs only the preflight checks. It
// takes the output flags of a run that apply without load: --format,
// --no-color and --quiet.
func cmdPreflight(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun preflight", stderr)
	format := fs.String("format", "table", "stdout format: "+strings.Join(report.Formats, ", "))
	quiet := fs.Bool("quiet", false, "no pipeline lines on stderr")
	noColor := fs.Bool("no-color", false, "no ANSI colour")
	var seg segmentFlags
	seg.register(fs, false)
	path, ok := oneArg(fs, args, stderr, "preflight takes exactly one plan file")
	if !ok {
		return ExitUsage
	}
	if !checkFormat(*format, stderr) {
		return ExitUsage
	}
	prog, _, code := loadPlan(path, engine.Options{Segment: seg.segment(stderr)}, stderr)
	if prog == nil {
		return code
	}
	secrets := redact.New(prog.Secrets()...)
	tty := isTerminal(stderr)
	stderr = secrets.Writer(stderr)
	sig := catchStops(stderr, tty, os.Exit) // no teardown: a second signal only counts
	defer sig.Release()
	opts := engine.RunOptions{Version: version, Logf: logger(stderr, *quiet, tty)}
	run, runErr := engine.Preflight(sig.Run, prog, opts)
	run = report.Redact(run, secrets)
	run.Verdict = results.Verdict{Pass: runErr == nil && run.Status == results.StatusCompleted, Label: "PREFLIGHT PASSED"}
	if !run.Verdict.Pass {
		run.Verdict.Label = "PREFLIGHT FAILED"
	}
	color := !*noColor && isTerminal(stdout) && *format == "table"
	if err := report.Render(stdout, *format, run, report.Options{Color: color}); err != nil {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
	}
	// A preflight that stopped without an error (interrupted) is no pass either.
	return exitCode(run, runErr, stderr)
}

// cmdReport re-renders a saved JSON report. It exits 0 once the report is
// rendered, whatever the saved verdict, so that a re-render step does not
// fail a `set -e` script; with --exit-code it exits with the code the run
// itself gave (0, 1, 3, 4 or 5; see verdictCode).
func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun report", stderr)
	format := fs.String("format", "table", "output format: "+strings.Join(report.Formats, ", "))
	noColor := fs.Bool("no-color", false, "no ANSI colour")
	withCode := fs.Bool("exit-code", false, "exit with the saved run's exit code (0 approved, 1 not approved, 3 could not run, 4 aborted or interrupted, 5 inconclusive)")
	path, ok := oneArg(fs, args, stderr, "report takes exactly one JSON report")
	if !ok {
		return ExitUsage
	}
	if !checkFormat(*format, stderr) {
		return ExitUsage
	}
	run, err := results.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
		return ExitUsage
	}
	if run.Recommendations == nil {
		// A report written before planrun recommended: from its figures
		// and assertion outcomes alone (no plan).
		run.Recommendations = recommend.For(run, nil)
	}
	color := !*noColor && isTerminal(stdout) && *format == "table"
	if err := report.Render(stdout, *format, run, report.Options{Color: color}); err != nil {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
		return ExitUsage
	}
	if *withCode {
		return verdictCode(run)
	}
	return ExitApproved
}

// cmdCompare compares a new run against one or more baseline runs (the
// last argument is the new run); exit 1 when a regression is found.
func cmdCompare(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun compare", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, compareUsage)
		printFlags(stderr, fs)
	}
	format := fs.String("format", "table", "output format `F`: table, markdown, html or json")
	tolerance := fs.String("tolerance", "10%", "relative change `T` beyond which a worse value is a regression, when also beyond the noise (10% or 0.1)")
	noColor := fs.Bool("no-color", false, "no ANSI colour even on a terminal")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(pos) < 2 {
		fmt.Fprintln(stderr, "planrun: compare takes two or more JSON reports: BASE.json [BASE2.json ...] NEW.json")
		return ExitUsage
	}
	tol, err := parseTolerance(*tolerance)
	if err != nil {
		fmt.Fprintf(stderr, "planrun: --tolerance: %v\n", err)
		return ExitUsage
	}
	if *format != "table" && *format != "markdown" && *format != "html" && *format != "json" {
		fmt.Fprintf(stderr, "planrun: unknown --format %q; use table, markdown, html or json\n", *format)
		return ExitUsage
	}
	runs := make([]*results.Run, len(pos))
	budget := results.NewBudget() // one for all the reports (untrusted input)
	for i, path := range pos {
		if runs[i], err = budget.ReadFile(path); err != nil {
			fmt.Fprintf(stderr, "planrun: %v\n", err)
			return ExitUsage
		}
	}
	c := compare.Baselines(runs[:len(runs)-1], runs[len(runs)-1], compare.Options{Tolerance: tol})
	switch *format {
	case "markdown":
		err = c.Markdown(stdout)
	case "html":
		err = c.HTML(stdout)
	case "json":
		err = c.JSON(stdout)
	default:
		err = c.Table(stdout, !*noColor && isTerminal(stdout))
	}
	if err != nil {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
		return ExitUsage
	}
	if c.Regressions > 0 {
		return ExitNotApproved
	}
	return ExitApproved
}

// compareUsage heads `planrun compare --help`; [printFlags] lists the flags.
const compareUsage = `usage: planrun compare BASE.json [BASE2.json ...] NEW.json [flags]

Compares a new run (the last file) with one or more baseline runs of the
same plan; exit 1 on a regression beyond the tolerance and the noise
(docs/compare.md).

Compare flags:
`

// printFlags lists fs's flags as the rest of planrun's help writes them,
// --name (not the flag package's -name), with the value's name (the
// `quoted` word of the usage) and the default.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		head := "--" + f.Name
		if name != "" {
			head += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  %-18s %s\n", head, usage)
	})
}

// parseTolerance reads "10%" or "0.1".
func parseTolerance(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or percentage (e.g. 10%%)", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 {
		return 0, errors.New("must not be negative")
	}
	if v == 0 {
		return -1, nil // compare.Options: 0 means the default, a negative value means none
	}
	return v, nil
}

// cmdSchema prints the plan's JSON Schema.
func cmdSchema(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "planrun: schema takes no arguments")
		return ExitUsage
	}
	_, _ = stdout.Write(schema.JSONSchema)
	return ExitApproved
}
