package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
	"github.com/planrun/planrun/tune"
)

// rangeFlag is an inclusive integer range flag, A..B (or N for N..N).
type rangeFlag struct {
	r   tune.Range
	set bool
}

func (f *rangeFlag) String() string {
	if !f.set {
		return ""
	}
	return f.r.String()
}

func (f *rangeFlag) Set(v string) error {
	a, b, ok := strings.Cut(v, "..")
	if !ok {
		b = a
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return fmt.Errorf("want a range of whole numbers A..B (e.g. 1..20), got %q", v)
	}
	if from > to {
		return fmt.Errorf("the range %q is empty: A must not exceed B", v)
	}
	f.r, f.set = tune.Range{From: from, To: to}, true
	return nil
}

type tuneFlags struct {
	scenario  string
	sizes     rangeFlag
	overflows rangeFlag
	timeScale float64
	format    string
	out       string
	quiet     bool
	// poolEnv names the service's env variables that set its pool, when
	// tune varies the service's own pool (target.service with start).
	poolEnv servicePoolEnv
}

// cmdTune runs one scenario at several pool configurations to find the
// smallest that passes the plan's critical assertions (docs/tune.md).
// Exit 0: one was found; 1: none in the range passes; 2: plan or usage
// error; 3: a run could not be made; 4: interrupted (what was found so far
// is printed); 5: no configuration passed and the search stopped on a run
// that stayed inconclusive.
func cmdTune(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun tune", stderr)
	var f tuneFlags
	fs.StringVar(&f.scenario, "scenario", "", "the scenario to run (required)")
	fs.Var(&f.sizes, "size", "the pool.size range to bisect, A..B (default 1..2×(size+max_overflow))")
	fs.Var(&f.overflows, "overflow", "also bisect max_overflow over A..B at the size found (default: the plan's, fixed)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "multiply the scenario's duration by this factor")
	fs.StringVar(&f.format, "format", "table", "stdout format: "+strings.Join(tune.Formats, ", "))
	fs.StringVar(&f.out, "out", "", "directory for the tuning's JSON, markdown and HTML")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	fs.StringVar(&f.poolEnv.size, "size-env", "", "with target.service that planrun starts: the service's env variable that sets its pool size (e.g. POOL_SIZE); each run starts the service with the candidate's")
	fs.StringVar(&f.poolEnv.overflow, "overflow-env", "", "the service's env variable that sets its max_overflow (e.g. POOL_MAX_OVERFLOW), as --size-env")
	path, ok := oneArg(fs, args, stderr, "tune takes exactly one plan file (see planrun help)")
	if !ok {
		return ExitUsage
	}
	switch {
	case f.scenario == "":
		fmt.Fprintln(stderr, "planrun: tune needs --scenario NAME: the scenario whose pool to tune")
		return ExitUsage
	case f.timeScale <= 0:
		fmt.Fprintf(stderr, "planrun: --time-scale must be a positive factor (e.g. 0.05), got %v\n", f.timeScale)
		return ExitUsage
	case !slices.Contains(tune.Formats, f.format):
		fmt.Fprintf(stderr, "planrun: unknown --format %q; use one of %s\n", f.format, strings.Join(tune.Formats, ", "))
		return ExitUsage
	case f.sizes.set && (f.sizes.r.From < 1 || f.sizes.r.To > schema.MaxPoolConns):
		fmt.Fprintf(stderr, "planrun: --size %s: a pool size is from 1 to %d\n", f.sizes.r, schema.MaxPoolConns)
		return ExitUsage
	case f.overflows.set && (f.overflows.r.From < 0 || f.overflows.r.To > schema.MaxPoolConns):
		fmt.Fprintf(stderr, "planrun: --overflow %s: max_overflow is from 0 to %d\n", f.overflows.r, schema.MaxPoolConns)
		return ExitUsage
	}
	if f.out != "" {
		if err := checkWritable(f.out); err != nil {
			fmt.Fprintf(stderr, "planrun: --out: %v\n", err)
			return ExitUsage
		}
	}

	opts := engine.Options{TimeScale: f.timeScale, Scenarios: []string{f.scenario}}
	plan, err := schema.LoadPartial(path)
	prog, _, code := compilePlan(plan, err, opts, stderr)
	if prog == nil {
		return code
	}
	if err := f.poolEnv.check(plan); err != nil {
		fmt.Fprintf(stderr, "planrun: %v\n", err)
		return ExitUsage
	}
	// Every run gets the same seed, hence the same arrivals and picks: the
	// configurations differ by their pool alone.
	seed := prog.Seed
	plan.Seed = &seed
	stated := tune.Config{Size: prog.Pool.Size, MaxOverflow: prog.Pool.MaxOverflow}
	sizes := f.sizes.r
	if !f.sizes.set {
		sizes = tune.Range{From: 1, To: min(max(2*(stated.Size+stated.MaxOverflow), 1), schema.MaxPoolConns)}
	}
	var overflows *tune.Range
	if f.overflows.set {
		overflows = &f.overflows.r
	}

	tty := isTerminal(stderr)
	stderr = redact.New(prog.Secrets()...).Writer(stderr)
	sig := catchStops(stderr, tty, os.Exit)
	defer sig.Release()

	t := &tuner{plan: plan, opts: opts, poolEnv: f.poolEnv, stdout: stdout, stderr: stderr, quiet: f.quiet, table: f.format == "table", sig: sig,
		rec: results.Tuning{PlanrunVersion: version, Plan: prog.Plan, Scenario: f.scenario, TimeScale: f.timeScale, Seed: seed,
			Stated: results.TuningConfig{Size: stated.Size, MaxOverflow: stated.MaxOverflow},
			Sizes:  results.TuningRange{From: sizes.From, To: sizes.To}}}
	if overflows != nil {
		t.rec.Overflows = &results.TuningRange{From: overflows.From, To: overflows.To}
	}
	started := time.Now()
	res, searchErr := tune.Search(stated, t.model, sizes, overflows, t.try)
	code = t.finish(res, searchErr)
	if code == ExitCouldNotRun {
		fmt.Fprintln(stderr, "planrun: "+t.rec.ExitReason)
	}

	if t.table {
		tune.TableSummary(stdout, &t.rec)
	} else if err := tune.Render(stdout, f.format, &t.rec); err != nil {
		fmt.Fprintf(stderr, "planrun: rendering the tuning: %v\n", err)
	}
	if f.out != "" {
		paths, err := writeTuning(f.out, &t.rec, started)
		for _, p := range paths {
			fmt.Fprintf(stderr, "wrote %s\n", p)
		}
		if err != nil {
			fmt.Fprintf(stderr, "planrun: writing the tuning to %s failed: %v\n", f.out, err)
			return withLostReports(code, true)
		}
	}
	return code
}

// tuner runs the tries of one tuning and keeps their record.
type tuner struct {
	plan    *schema.Plan
	poolEnv servicePoolEnv
	opts    engine.Options
	stdout  io.Writer
	stderr  io.Writer
	quiet   bool
	table   bool // rows go to stdout as they complete
	sig     *stops
	rec     results.Tuning
	// first is the first run's recommendations (nil: none yet, or it made none).
	first     *results.Recommendations
	firstDone bool
	// predicted maps connections (size + max_overflow) to the model's acquire p95.
	predicted map[int]time.Duration
	headerOut bool
}

// errInterrupted stops the search when a stop signal ended a run.
var errInterrupted = errors.New("interrupted")

// couldNotRun stops the search when a run could not be made.
type couldNotRun struct{ msg string }

func (e *couldNotRun) Error() string { return e.msg }

// try runs the scenario once at c: the plan with its pool changed,
// compiled, run and judged as `planrun run` does.
func (t *tuner) try(c tune.Config, why string, repeat bool) (tune.Outcome, error) {
	if t.sig.Run.Err() != nil {
		return tune.Unknown, errInterrupted
	}
	p := *t.plan
	p.Pool.Size, p.Pool.MaxOverflow = c.Size, c.MaxOverflow
	p.Target.Service = t.poolEnv.apply(p.Target.Service, c)
	prog, set, code := compilePlan(&p, nil, t.opts, t.stderr)
	if prog == nil {
		return tune.Unknown, &couldNotRun{fmt.Sprintf("the plan does not compile with %s (exit %d)", c, code)}
	}
	if !t.quiet {
		again := ""
		if repeat {
			again = ", again: the last run was inconclusive"
		}
		fmt.Fprintf(t.stderr, "planrun tune: running %s at %s (%s%s)\n", printable.String(t.rec.Scenario), c, why, again)
	}
	start := time.Now()
	run, runErr := engine.Run(t.sig.Run, prog, engine.RunOptions{Version: version, Teardown: t.sig.Teardown})
	tr := results.TuningTry{Size: c.Size, MaxOverflow: c.MaxOverflow, Why: why, Repeat: repeat}
	var out tune.Outcome
	var stop error
	if run != nil && runErr == nil {
		run = judge(run, &p, prog, set, nil)
	}
	switch {
	case runErr != nil:
		tr.Verdict, tr.Reason = results.TuneCouldNotRun, redact.Text(runErr.Error())
		stop = &couldNotRun{tr.Reason}
	case run.Status == results.StatusInterrupted:
		tr.Verdict, tr.Reason = results.TuneInterrupted, run.StatusReason
		stop = errInterrupted
	case run.Status == results.StatusFailed:
		tr.Verdict, tr.Reason = results.TuneCouldNotRun, run.StatusReason
		stop = &couldNotRun{run.StatusReason}
	case run.Verdict.Inconclusive:
		tr.Verdict, out = results.TuneInconclusive, tune.Inconclusive
		tr.Reason = run.Verdict.Reason
	case run.Verdict.Pass:
		tr.Verdict, out = results.TunePass, tune.Pass
	default: // not approved, or aborted by an abort_on_fail assertion
		tr.Verdict, out = results.TuneFail, tune.Fail
		tr.Reason = failedCritical(run)
	}
	if run != nil {
		tr.Label = run.Verdict.Label
	}
	if out != tune.Unknown { // judged: its figures describe the configuration
		t.measure(&tr, run)
	}
	tr.Elapsed = time.Since(start)
	t.rec.Tries = append(t.rec.Tries, tr)
	t.row(tr)
	return out, stop
}

// measure fills a try's figures from its run's scenario, and takes the
// first run's recommendations for the model's candidate and predictions.
func (t *tuner) measure(tr *results.TuningTry, run *results.Run) {
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		if sc.Name != t.rec.Scenario {
			continue
		}
		tr.AcquireP95, tr.AcquireP99 = sc.Acquire.P95, sc.Acquire.P99
		tr.Timeouts = sc.ErrorsBy[results.ErrAcquireTimeout]
		if sc.Ops > 0 {
			tr.TimeoutRate = float64(tr.Timeouts) / float64(sc.Ops)
		}
		tr.SuccessRate = sc.SuccessRate
	}
	if !t.firstDone {
		t.firstDone = true
		t.first = run.Recommendations
		t.rec.Recommendations = t.first
		t.predicted = map[int]time.Duration{}
		switch {
		case t.first == nil:
			t.rec.Note = "The first run made no recommendations: the bisection started at the middle of the range, and nothing is predicted."
		default:
			var found bool
			for _, a := range t.first.Scenarios {
				if a.Scenario == t.rec.Scenario {
					found = true
					for _, p := range []results.PoolPrediction{a.Current, a.Recommended} {
						if p.Connections > 0 && p.AcquireP95 > 0 {
							t.predicted[p.Connections] = p.AcquireP95
						}
					}
				}
			}
			if !found {
				t.rec.Note = "The first run's recommendations do not cover this scenario: nothing is predicted."
			}
		}
	}
	tr.PredictedP95 = t.predicted[tr.Size+tr.MaxOverflow]
}

// model is the model's candidate from the first run's recommendations (nil: none).
func (t *tuner) model() *tune.Config {
	if t.first == nil || t.first.Pool.Size < 1 {
		return nil
	}
	m := &tune.Config{Size: t.first.Pool.Size, MaxOverflow: t.first.Pool.MaxOverflow}
	t.rec.Model = &results.TuningConfig{Size: m.Size, MaxOverflow: m.MaxOverflow}
	return m
}

// row shows a finished try: on stdout in the table format, else on stderr
// (unless quiet).
func (t *tuner) row(tr results.TuningTry) {
	w := t.stderr
	if t.table {
		w = t.stdout
	} else if t.quiet {
		return
	}
	if !t.headerOut {
		t.headerOut = true
		tune.TableHeader(w)
	}
	tune.TableRow(w, tr)
}

// failedCritical names the run's failed critical assertions.
func failedCritical(run *results.Run) string {
	var names []string
	for _, o := range run.Assertions {
		if o.Severity == results.SeverityCritical && o.Status == results.OutcomeFail {
			names = append(names, o.Name)
		}
	}
	if len(names) == 0 {
		return run.Verdict.Reason
	}
	return strings.Join(names, "; ")
}

// finish records why the search stopped and returns the exit code.
func (t *tuner) finish(res tune.Result, err error) int {
	r := &t.rec
	if res.Found {
		r.Smallest = &results.TuningConfig{Size: res.Smallest.Size, MaxOverflow: res.Smallest.MaxOverflow}
	}
	// Runs confirm the model's recommendation when the search proved the
	// smallest passing configuration (not an interrupted or inconclusive
	// search's best so far) within ±1 connection of it.
	if rc := r.Recommendations; rc != nil && r.Model != nil && res.Found && err == nil && res.Stop == tune.StopFound {
		rc.Pool.Confirmed = tune.Confirms(tune.Config{Size: rc.Pool.Size, MaxOverflow: rc.Pool.MaxOverflow}, res.Smallest)
	}
	r.SizeBracket = results.TuningBracket{FailedAt: res.Size.Fail, PassedAt: res.Size.Pass}
	bracket := func() string {
		return fmt.Sprintf("the size bisection proved size %d passes and stopped with size %d as the largest known to fail", res.Size.Pass, res.Size.Fail)
	}
	var nr *couldNotRun
	switch {
	case errors.Is(err, errInterrupted):
		r.Exit, r.ExitReason = "interrupted", "Interrupted: the configurations above are all that ran."
		return ExitAborted
	case errors.As(err, &nr):
		r.Exit, r.ExitReason = "could_not_run", "A run could not be made: "+printable.Line(nr.msg)
		return ExitCouldNotRun
	case err != nil:
		r.Exit, r.ExitReason = "could_not_run", printable.Line(err.Error())
		return ExitCouldNotRun
	}
	switch res.Stop {
	case tune.StopFound:
		r.Exit = "found"
		r.ExitReason = fmt.Sprintf("Found by bisection over size %d..%d at max_overflow %d: size %d passes, size %d fails.",
			r.Sizes.From, r.Sizes.To, r.Stated.MaxOverflow, res.Size.Pass, res.Size.Fail)
		if res.Size.Fail < r.Sizes.From {
			r.ExitReason = fmt.Sprintf("Found by bisection over size %d..%d at max_overflow %d: the lowest size, %d, passes.",
				r.Sizes.From, r.Sizes.To, r.Stated.MaxOverflow, res.Size.Pass)
		}
		if o := r.Overflows; o != nil {
			switch {
			case res.Overflow.Pass > o.To:
				r.ExitReason += fmt.Sprintf(" At size %d, no max_overflow in %d..%d passes.", res.Size.Pass, o.From, o.To)
			case res.Overflow.Fail < o.From:
				r.ExitReason += fmt.Sprintf(" At size %d, the lowest max_overflow, %d, passes.", res.Size.Pass, res.Overflow.Pass)
			default:
				r.ExitReason += fmt.Sprintf(" At size %d, max_overflow %d passes and %d fails.", res.Size.Pass, res.Overflow.Pass, res.Overflow.Fail)
			}
		}
		return ExitApproved
	case tune.StopNone:
		r.Exit = "none_passes"
		r.ExitReason = fmt.Sprintf("No size in %d..%d passes at max_overflow %d: size %d, the largest, fails. Widen --size or raise max_overflow.",
			r.Sizes.From, r.Sizes.To, r.Stated.MaxOverflow, r.Sizes.To)
		return ExitNotApproved
	}
	r.Exit = "inconclusive"
	r.ExitReason = "Stopped: a run stayed inconclusive after its repeat (the load generator could not keep to its schedule), so it proves nothing; "
	if res.Size.Pass <= r.Sizes.To {
		r.ExitReason += bracket() + "."
	} else {
		r.ExitReason += "no size was seen to pass."
	}
	if res.Found {
		return ExitApproved
	}
	return ExitInconclusive
}

// writeTuning writes the tuning as <plan>_tune_<YYYYMMDD_HHMMSS_mmm>.json,
// .md and .html into dir, never replacing a file (a taken name gets -2,
// -3, ...), and returns the paths written.
func writeTuning(dir string, rec *results.Tuning, now time.Time) ([]string, error) {
	base := report.FileBase(rec.Plan.Name+"_tune", now)
	var paths []string
	for _, f := range []struct{ ext, format string }{{".json", "json"}, {".md", "markdown"}, {".html", "html"}} {
		var b strings.Builder
		if err := tune.Render(&b, f.format, rec); err != nil {
			return paths, err
		}
		p, err := createNew(dir, base, f.ext, b.String())
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// createNew writes content to dir/base+ext, or base-2+ext, -3, ... when taken.
func createNew(dir, base, ext, content string) (string, error) {
	for n := 1; n <= 100; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		p := filepath.Join(dir, name+ext)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, werr := f.WriteString(content)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		return p, werr
	}
	return "", fmt.Errorf("no free name for %s%s in %s", base, ext, dir)
}
