package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/recommend"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// newFlagSet is a command's flag set: errors and usage go to stderr, and
// parsing returns them (the command exits with ExitUsage).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// oneArg parses a command's args (flags before or after the positional
// argument) and returns the one positional argument; when there is not
// exactly one, it says "planrun: " + want on stderr and ok is false.
func oneArg(fs *flag.FlagSet, args []string, stderr io.Writer, want string) (arg string, ok bool) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", false
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "planrun: "+want)
		return "", false
	}
	return pos[0], true
}

// parseInterspersed parses flags that may come before or after the positional
// arguments (`planrun plan.yaml --time-scale 0.1`), returning the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

type runFlags struct {
	scenarios stringList
	timeScale float64
	format    string
	out       string
	baseline  string
	quiet     bool
	noColor   bool
	segment   segmentFlags
	metrics   metricsFlags
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun run", stderr)
	var f runFlags
	fs.Var(&f.scenarios, "scenario", "run only this scenario (repeatable)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "multiply every scenario duration by this factor")
	fs.StringVar(&f.format, "format", "table", "stdout format: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&f.out, "out", "", "directory for the JSON, markdown and JUnit reports")
	fs.StringVar(&f.baseline, "baseline", "", "an earlier JSON report whose figures assertions see as baseline.*")
	fs.BoolVar(&f.quiet, "quiet", false, "no live progress on stderr")
	fs.BoolVar(&f.noColor, "no-color", false, "no ANSI colour")
	f.segment.register(fs, true)
	f.metrics.register(fs)
	path, ok := oneArg(fs, args, stderr, "run takes exactly one plan file (see planrun help)")
	if !ok {
		return ExitUsage
	}
	if f.timeScale <= 0 {
		fmt.Fprintf(stderr, "planrun: --time-scale must be a positive factor (e.g. 0.05), got %v\n", f.timeScale)
		return ExitUsage
	}
	if !checkFormat(f.format, stderr) {
		return ExitUsage
	}

	if err := f.metrics.check(); err != nil {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
		return ExitUsage
	}
	if f.out != "" {
		if err := checkWritable(f.out); err != nil {
			fmt.Fprintf(stderr, "planrun: --out: %v\n", err)
			return ExitUsage
		}
	}

	plan, prog, set, code := loadPlanFile(path, engine.Options{TimeScale: f.timeScale, Scenarios: f.scenarios, Segment: f.segment.segment(stderr)}, stderr)
	if prog == nil {
		return code
	}
	var baseline *results.Run
	if f.baseline != "" {
		var err error
		if baseline, err = results.ReadFile(f.baseline); err != nil {
			fmt.Fprintf(stderr, "planrun: --baseline: %v\n", err)
			return ExitUsage
		}
	}
	// Checked before any connection, like --out (after the plan, so that
	// its problems are all printed first): a long run must not end without
	// its job summary.
	if err := report.CheckGitHubSummary(); err != nil {
		fmt.Fprintf(stderr, "planrun: GITHUB_STEP_SUMMARY: %v\n  nothing was run; point it at a file planrun can append to, or unset it\n", err)
		return ExitUsage
	}

	live, err := f.metrics.start(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "planrun: --metrics-addr: %v\n  nothing was run; choose a free port or leave the flag out\n", err)
		return ExitCouldNotRun
	}
	defer live.close(stderr)

	tty := isTerminal(stderr)
	stderr = redact.New(prog.Secrets()...).Writer(stderr)
	// Caught until the end: a third signal exits at once, even while the
	// report is written.
	sig := catchStops(stderr, tty, os.Exit)
	defer sig.Release()
	// The live stream's sinks, in turn: Prometheus, the progress line, abort_on_fail assertions.
	// The reports are named after the run's start (report.FileBase), and so
	// is the log of a service planrun starts, written beside them.
	started := time.Now()
	opts := engine.RunOptions{Version: version, Logf: logger(stderr, f.quiet, tty), Teardown: sig.Teardown, Live: live.sinks(),
		OutDir: f.out, ReportName: report.FileBase(prog.Plan.Name, started)}
	if !f.quiet {
		opts.Live = append(opts.Live, newProgressPrinter(stderr, tty))
	}
	opts.Live = append(opts.Live, set.Live())
	run, runErr := engine.Run(sig.Run, prog, opts)
	if !f.quiet && tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	run = judge(run, plan, prog, set, baseline)

	lost := !deliver(run, f.format, !f.noColor && isTerminal(stdout) && f.format == "table", f.out, started, stdout, stderr)
	code = exitCode(run, runErr, stderr)
	stop := sig.Run // a stop signal ends the linger; after an interrupted run, the next one
	if stop.Err() != nil {
		stop = sig.Teardown
	}
	live.wait(stop, stderr)
	return withLostReports(code, lost)
}

// judge evaluates a finished run's assertions into its verdict (against
// baseline, when not nil) and returns it with the plan's secrets redacted:
// what a run and each run of `planrun tune` do between the engine and the
// reports.
func judge(run *results.Run, plan *schema.Plan, prog *engine.Program, set *assertions.Set, baseline *results.Run) *results.Run {
	run.Assertions, run.Verdict = set.Evaluate(run, baseline)
	run.Recommendations = recommend.For(run, plan)
	return report.Redact(run, redact.New(prog.Secrets()...))
}

// deliver renders run on stdout in format, writes its report files into
// out (when set, named after now: report.WriteFiles), appends the GitHub
// job summary, and names a teardown that failed. It returns false when the
// report files asked for could not be written.
func deliver(run *results.Run, format string, color bool, out string, now time.Time, stdout, stderr io.Writer) (written bool) {
	if err := report.Render(stdout, format, run, report.Options{Color: color}); err != nil {
		fmt.Fprintf(stderr, "planrun: rendering the report: %v\n", err)
	}
	written = true
	if out != "" {
		paths, err := report.WriteFiles(out, run, now)
		if err != nil {
			fmt.Fprintf(stderr, "planrun: writing the reports to %s failed: %v\n  the results are on stdout only; rerun with --out pointing at a writable directory\n", out, err)
			written = false
		}
		for _, p := range paths {
			fmt.Fprintf(stderr, "wrote %s\n", p)
		}
	}
	if err := report.AppendGitHubSummary(run); err != nil {
		// Checked before the run: the verdict stands, the job page lacks it.
		fmt.Fprintf(stderr, "planrun: warning: GITHUB_STEP_SUMMARY: %v\n  the verdict and exit code are unaffected\n", err)
	}
	if run.TeardownError != "" {
		fmt.Fprintf(stderr, "planrun: %s\n  clean up the target by hand\n", printable.String(run.TeardownError))
	}
	return written
}

// withLostReports turns a verdict's exit code into ExitCouldNotRun when the
// report files could not be written: CI asked for files it will not find.
func withLostReports(code int, lost bool) int {
	if lost && (code == ExitApproved || code == ExitNotApproved || code == ExitInconclusive) {
		return ExitCouldNotRun
	}
	return code
}

// checkWritable makes sure the reports can be written into dir before a long
// run starts: it creates dir and a file in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".planrun-check-*")
	if err != nil {
		return fmt.Errorf("cannot write into %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// exitCode maps a finished run to the documented exit codes, printing why
// when the run could not go on or was stopped.
func exitCode(run *results.Run, runErr error, stderr io.Writer) int {
	var failure *engine.Failure
	switch {
	case errors.As(runErr, &failure):
		fmt.Fprintf(stderr, "planrun: %s\n", printable.String(redact.Text(failure.Error())))
		return ExitCouldNotRun
	case runErr != nil:
		fmt.Fprintf(stderr, "planrun: %s\n", printable.String(redact.Text(runErr.Error())))
		return ExitCouldNotRun
	case run.Status == results.StatusAborted || run.Status == results.StatusInterrupted:
		fmt.Fprintf(stderr, "planrun: %s\n", printable.String(run.StatusReason))
	}
	return verdictCode(run)
}

// verdictCode is the exit code a run's record stands for: 4 aborted or
// interrupted, 3 failed (could not run), 5 inconclusive (the load generator
// fell behind), 0 approved, 1 not approved. It is
// what the run exited with, so `planrun report --exit-code` gives it back.
func verdictCode(run *results.Run) int {
	switch run.Status {
	case results.StatusAborted, results.StatusInterrupted:
		return ExitAborted
	case results.StatusFailed:
		return ExitCouldNotRun
	}
	if run.Verdict.Inconclusive {
		return ExitInconclusive
	}
	if run.Verdict.Pass {
		return ExitApproved
	}
	return ExitNotApproved
}

// loadPlan loads, compiles and checks a plan, printing every problem at once.
// It returns a nil program and the exit code when the plan is invalid.
func loadPlan(path string, opts engine.Options, stderr io.Writer) (*engine.Program, *assertions.Set, int) {
	_, prog, set, code := loadPlanFile(path, opts, stderr)
	return prog, set, code
}

// loadPlanFile is [loadPlan] that also returns the plan itself.
func loadPlanFile(path string, opts engine.Options, stderr io.Writer) (*schema.Plan, *engine.Program, *assertions.Set, int) {
	// A partial plan still has its args and checks compiled, so every
	// problem is reported in one pass.
	plan, err := schema.LoadPartial(path)
	prog, set, code := compilePlan(plan, err, opts, stderr)
	if code != ExitApproved {
		return nil, nil, nil, code
	}
	return plan, prog, set, code
}

// compilePlan compiles and checks a plan loaded with schema.LoadPartial
// (loadErr: what loading it said), as loadPlan does.
func compilePlan(plan *schema.Plan, loadErr error, opts engine.Options, stderr io.Writer) (*engine.Program, *assertions.Set, int) {
	var all schema.Errors
	collect(&all, loadErr)
	if plan == nil {
		printPlanErrors(stderr, all)
		return nil, nil, ExitUsage
	}
	prog, err := engine.Compile(plan, opts)
	collect(&all, err)
	set, err := assertions.Compile(plan)
	collect(&all, err)
	if len(all) > 0 {
		all.Sort()
		printPlanErrors(stderr, all)
		return nil, nil, ExitUsage
	}
	return prog, set, ExitApproved
}

func collect(all *schema.Errors, err error) {
	if err == nil {
		return
	}
	var errs schema.Errors
	if errors.As(err, &errs) {
		*all = append(*all, errs...)
		return
	}
	*all = append(*all, &schema.Error{Msg: err.Error()})
}

func printPlanErrors(w io.Writer, errs schema.Errors) {
	for _, e := range errs {
		fmt.Fprintln(w, e.Error())
	}
	fmt.Fprintf(w, "%s in the plan; nothing was run\n", plural(len(errs), "problem", "problems"))
}

// plural renders a count with its noun: "1 scenario", "2 scenarios".
func plural(n int, one, many string) string { return humanize.Count(int64(n), one, many) }

// checkFormat reports whether format is one of report.Formats, and says
// which are when it is not.
func checkFormat(format string, stderr io.Writer) bool {
	if slices.Contains(report.Formats, format) {
		return true
	}
	fmt.Fprintf(stderr, "planrun: unknown --format %q; use one of %s\n", format, strings.Join(report.Formats, ", "))
	return false
}

// logger prints pipeline steps on stderr; on a terminal it first clears the
// progress line. The message (names, server errors) prints with its control
// characters escaped ([printable.String]).
func logger(w io.Writer, quiet, tty bool) func(string, ...any) {
	if quiet {
		return nil
	}
	prefix := "planrun: "
	if tty {
		prefix = "\r\033[K" + prefix
	}
	return func(format string, args ...any) {
		fmt.Fprint(w, prefix+printable.String(fmt.Sprintf(format, args...))+"\n")
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
