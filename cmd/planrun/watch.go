package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/watch"
)

// minWatchInterval bounds --interval from below: a sample is a query on
// the server.
const minWatchInterval = 10 * time.Millisecond

// cmdWatch is `planrun watch PLAN`: the deployed service's pool held to
// the plan, from the server, with no load (docs/watch.md). It exits by
// verdict like a run: 0 approved, 1 not approved, 2 usage or a plan
// without target.url, 3 the server could not be watched, 4 interrupted.
func cmdWatch(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun watch", stderr)
	var (
		forDur, interval, every, recent time.Duration
		format, out                     string
		quiet, noColor                  bool
		metrics                         metricsFlags
	)
	fs.DurationVar(&forDur, "for", 0, "how long to watch, e.g. 48h (default: until stopped)")
	fs.DurationVar(&interval, "interval", watch.DefaultInterval, "time between two samples of pg_stat_activity")
	fs.DurationVar(&every, "report-every", watch.DefaultReportEvery, "write an interim report this often (into --out; the latest one is kept)")
	fs.DurationVar(&recent, "window", watch.DefaultRecent, "the rolling window judged beside the whole watch, as a second scenario \"last <window>\" once the watch is longer (0: none)")
	fs.StringVar(&format, "format", "table", "stdout format of the final report: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&out, "out", "", "directory for the reports (JSON, markdown, JUnit, HTML): the interim one and the final one")
	fs.BoolVar(&quiet, "quiet", false, "no log lines on stderr")
	fs.BoolVar(&noColor, "no-color", false, "no ANSI colour")
	metrics.register(fs)
	path, ok := oneArg(fs, args, stderr, "watch takes exactly one plan file (see planrun help)")
	if !ok {
		return ExitUsage
	}
	switch {
	case forDur < 0:
		fmt.Fprintf(stderr, "planrun: --for must not be negative, got %s\n", forDur)
		return ExitUsage
	case interval < minWatchInterval:
		fmt.Fprintf(stderr, "planrun: --interval must be at least %s, got %s\n", minWatchInterval, interval)
		return ExitUsage
	case recent < 0:
		fmt.Fprintf(stderr, "planrun: --window must not be negative, got %s\n", recent)
		return ExitUsage
	case recent > 0 && recent < interval:
		fmt.Fprintf(stderr, "planrun: --window must be at least --interval (%s), or 0 for none, got %s\n", interval, recent)
		return ExitUsage
	case every <= 0:
		fmt.Fprintf(stderr, "planrun: --report-every must be positive, got %s\n", every)
		return ExitUsage
	case !checkFormat(format, stderr):
		return ExitUsage
	}
	if err := metrics.check(); err != nil {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
		return ExitUsage
	}
	if out != "" {
		if err := checkWritable(out); err != nil {
			fmt.Fprintf(stderr, "planrun: --out: %v\n", err)
			return ExitUsage
		}
	}
	plan, prog, set, code := loadPlanFile(path, engine.Options{TimeScale: 1}, stderr)
	if prog == nil {
		return code
	}
	if plan.Target.URL == "" {
		fmt.Fprintf(stderr, "planrun: %v\n  set target.url in the plan (or DATABASE_URL, when it reads ${DATABASE_URL}); a watch has no throwaway server to watch\n", watch.ErrNoURL)
		return ExitUsage
	}

	lm, err := metrics.start(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "planrun: --metrics-addr: %v\n  nothing was watched; choose a free port or leave the flag out\n", err)
		return ExitCouldNotRun
	}
	defer lm.close(stderr)

	tty := isTerminal(stderr)
	red := redact.New(prog.Secrets()...)
	stderr = red.Writer(stderr)
	sig := catchStops(stderr, tty, os.Exit)
	defer sig.Release()
	logf := logger(stderr, quiet, false)

	// The interim reports: the latest is kept in --out, the one before
	// removed once its successor is written.
	var interim []string
	onInterim := func(run *results.Run) {
		run.Assertions, run.Verdict = set.Evaluate(run, nil)
		run = report.Redact(run, red)
		if logf != nil {
			logf("%s", watchLine(run))
		}
		if out == "" {
			return
		}
		paths, err := report.WriteFiles(out, run, time.Now())
		if err != nil {
			fmt.Fprintf(stderr, "planrun: warning: writing the interim report to %s failed: %v\n", out, err)
			return
		}
		for _, p := range interim {
			_ = os.Remove(p)
		}
		interim = paths
	}
	started := time.Now()
	run, err := watch.Run(sig.Run, watch.Config{
		Plan: plan, For: forDur, Interval: interval, ReportEvery: every, Recent: watchWindow(recent),
		Interim: onInterim, Live: lm.sinks(), Version: version, Logf: logf,
	})
	if errors.Is(err, watch.ErrNoURL) {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
		return ExitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "planrun: %s\n  nothing was watched; check target.url and that the role may read pg_stat_activity (pg_monitor)\n", printable.String(red.String(err.Error())))
		return ExitCouldNotRun
	}
	run.Assertions, run.Verdict = set.Evaluate(run, nil)
	run = report.Redact(run, red)
	lost := !deliver(run, format, !noColor && isTerminal(stdout) && format == "table", out, started, stdout, stderr)
	if !lost {
		for _, p := range interim { // the final report supersedes it
			_ = os.Remove(p)
		}
	}
	code = exitCode(run, nil, stderr)
	stop := sig.Run // a stop signal ends the linger; after an interrupted watch, the next one
	if stop.Err() != nil {
		stop = sig.Teardown
	}
	lm.wait(stop, stderr)
	return withLostReports(code, lost)
}

// watchWindow is --window as watch.Config.Recent: 0 (none) is negative there.
func watchWindow(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// watchLine sums up a watch's record so far in one line: its samples,
// the service's peak and leaks, and the verdict so far.
func watchLine(run *results.Run) string {
	sc := run.Scenarios[0]
	s := sc.Service
	line := fmt.Sprintf("watch: %s so far, %s (%d missed); in use max %d of %d, utilization p95 %s; %s; verdict so far: %s",
		humanize.Duration(sc.Elapsed), plural(s.Samples, "sample", "samples"), s.Missed, s.InUse.Max, s.Capacity,
		humanize.Percent(s.Utilization.P95), plural(s.Leaks, "leak", "leaks"), run.Verdict.Label)
	if s.NotFound != "" {
		line += " (" + s.NotFound + ")"
	}
	if len(run.Scenarios) > 1 { // the rolling window
		r := run.Scenarios[1]
		line += fmt.Sprintf("; %s: in use max %d, utilization p95 %s, %s at capacity",
			r.Name, r.Service.InUse.Max, humanize.Percent(r.Service.Utilization.P95), plural(r.Service.Saturation.Episodes, "episode", "episodes"))
	}
	return line
}
