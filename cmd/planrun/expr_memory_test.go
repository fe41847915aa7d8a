package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
)

// maxRSS returns the peak resident set size of the ended process p, in MB.
func (p *process) maxRSS() int64 {
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return -1
	}
	return ru.Maxrss >> 10 // KB on Linux
}

// memoryBound is the peak RSS the expression-memory runs must stay under:
// the string-doubling expression reached 5 GB in 27 s before the memory
// budget; a run of planrun itself stays within tens of MB, and a refused
// evaluation builds at most 1 MiB at a time.
const memoryBound = 400 // MB

// TestExpressionMemoryAndInterrupt runs the built binary on a plan whose
// every operation's arg doubles a string 34 times (and so does an
// abort_on_fail live check), lets the load run, then sends SIGINT: the
// process exits 4 within seconds with a report whose args errors name the
// expression, the check's outcome is an error, and its peak RSS stays
// small; the teardown ran.
func TestExpressionMemoryAndInterrupt(t *testing.T) {
	dsn := localpgtest.DSN(t)
	conn := db(t)
	resetMarker(t, conn, "expr_memory")
	out := t.TempDir()
	p := startPlanrun(t, []string{"DATABASE_URL=" + dsn}, plan("expr_memory"), "--out", out)
	p.waitFor(loadRuns)
	time.Sleep(2 * time.Second) // two more seconds of doubling expressions and live checks
	signalled := time.Now()
	p.signal(syscall.SIGINT)
	r := p.wait()
	took := time.Since(signalled)
	rss := p.maxRSS()
	t.Logf("SIGINT to exit: %s; peak RSS %d MB", took.Round(time.Millisecond), rss)
	if r.code != ExitAborted {
		t.Fatalf("want exit %d, got %s", ExitAborted, r)
	}
	if rss > memoryBound {
		t.Errorf("peak RSS %d MB, more than %d MB", rss, memoryBound)
	}
	// About two seconds on an idle machine; generous for a busy one, far
	// below the 30 s the scenario was planned for.
	if took > 10*time.Second {
		t.Errorf("the process took %s to end after SIGINT", took)
	}
	run := onlyReport(t, out, r)
	if run.Status != results.StatusInterrupted || len(run.Scenarios) != 1 {
		t.Fatalf("status %q with %d scenarios, want %q with 1", run.Status, len(run.Scenarios), results.StatusInterrupted)
	}
	sc := run.Scenarios[0]
	if sc.ErrorsBy[results.ErrArgs] == 0 {
		t.Errorf("no args errors (errors by category %v)", sc.ErrorsBy)
	}
	t.Logf("args error sample: %s", sc.ErrorSamples[results.ErrArgs])
	if s := sc.ErrorSamples[results.ErrArgs]; !strings.Contains(s, "`+` would build a string or array of 2,097,152 bytes") || !strings.Contains(s, `len(reduce(1..34, #acc + #acc, "x"))`) {
		t.Errorf("the args error does not name the expression and the refused operator: %q", s)
	}
	checked := false
	for _, o := range run.Assertions {
		if o.Name == "doubling check" {
			checked = true
			if o.Status != results.OutcomeError || !strings.Contains(o.Reason, "would build a string or array") {
				t.Errorf("check %q: outcome %q (%s), want %q for memory", o.Name, o.Status, o.Reason, results.OutcomeError)
			}
		}
	}
	if !checked {
		t.Errorf("no outcome for the doubling check")
	}
	if markers(t, conn, "expr_memory") != 1 {
		t.Errorf("teardown did not run after SIGINT\n%s", r)
	}
}

// TestExpressionMemorySetup: a setup statement's arg doubling a string
// fails setup at once (exit 3) with an error naming the expression, with a
// small peak RSS (before the memory budget: 15.5 s and 2 GB).
func TestExpressionMemorySetup(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := startPlanrun(t, []string{"DATABASE_URL=" + dsn}, plan("expr_memory_setup"))
	r := p.wait()
	rss := p.maxRSS()
	t.Logf("exit %d after %s; peak RSS %d MB", r.code, r.wall.Round(time.Millisecond), rss)
	if r.code != ExitCouldNotRun {
		t.Fatalf("want exit %d, got %s", ExitCouldNotRun, r)
	}
	if !strings.Contains(r.stderr+r.stdout, `args expression "len(reduce(1..34, #acc + #acc, \"x\"))"`) || !strings.Contains(r.stderr+r.stdout, "would build a string or array") {
		t.Errorf("the error does not name the expression and the limit:\n%s", r)
	}
	if rss > memoryBound {
		t.Errorf("peak RSS %d MB, more than %d MB", rss, memoryBound)
	}
}

// TestExpressionMemoryThreeSignals: under the string-doubling args, three
// signals: the first stops the load, the second the (sleeping) teardown,
// the third exits at once with 4; the peak RSS stays small.
func TestExpressionMemoryThreeSignals(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := startPlanrun(t, []string{"DATABASE_URL=" + dsn}, plan("expr_memory_hang"), "--out", t.TempDir())
	p.waitFor(loadRuns)
	time.Sleep(time.Second)
	p.signal(syscall.SIGINT)
	p.waitFor("teardown: 1 statement(s)")
	// The second and third back to back (another signal each, so that they
	// are not merged): once the teardown is stopped the process ends on its
	// own within milliseconds, and the third must come before.
	p.signal(syscall.SIGTERM)
	third := time.Now()
	p.signal(syscall.SIGHUP)
	r := p.wait()
	took := time.Since(third)
	rss := p.maxRSS()
	t.Logf("third signal to exit: %s; peak RSS %d MB", took.Round(time.Millisecond), rss)
	if r.code != ExitAborted {
		t.Fatalf("want exit %d, got %s", ExitAborted, r)
	}
	if took > 3*time.Second {
		t.Errorf("the process took %s to exit after the third signal", took)
	}
	if !strings.Contains(r.stderr, "a third time: exiting now") {
		t.Errorf("the process ended before the third signal:\n%s", r)
	}
	if rss > memoryBound {
		t.Errorf("peak RSS %d MB, more than %d MB", rss, memoryBound)
	}
}
