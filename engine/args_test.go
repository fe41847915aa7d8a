package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// TestArgsBudget: an args expression that could run for hours is refused
// when the plan is compiled, at the loop to shrink.
func TestArgsBudget(t *testing.T) {
	nested := func(n int) string {
		return strings.Repeat("all(1..100, ", n) + "true" + strings.Repeat(")", n)
	}
	tests := []struct {
		name string
		arg  string
		col  int    // of the error on line 5 (the item starts at 43), 0 when the plan compiles
		msg  string // start of the message
	}{
		{"five nested loops of 100", nested(5), 43 + len("all(1..100, all(1..100, all(1..100, "),
			`args expression "` + nested(5) + `" may run too long: ` + "`all` nests loops (all, any, map, filter, ...) 4 deep, more than 3"},
		{"two nested loops of 100", nested(2), 0, ""},
		{"a long random string in a loop", "map(1..100, randString(10000))", 43,
			`args expression "map(1..100, randString(10000))" may run too long: ` + "`map` may take about 1,000,504 steps per evaluation"},
		{"one long random string", "randString(50000)", 0, ""},
		{"one random string too long", "randString(200000)", 43,
			`args expression "randString(200000)" may run too long: the call may take about 200,003 steps`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "version: 1\nname: t\nmixes:\n  app:\n    - {name: read, sql: SELECT $1, args: [" + tt.arg + "]}\n" +
				"scenarios:\n  - {name: s, users: 1, duration: 1s}\n"
			plan, err := schema.Parse("plan.yaml", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = engine.Compile(plan, engine.Options{})
			if tt.col == 0 {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			var es schema.Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("Compile error %v, want one schema.Errors entry", err)
			}
			e := es[0]
			if want := (schema.Pos{File: "plan.yaml", Line: 5, Col: tt.col}); e.Pos != want {
				t.Errorf("at %s, want %s", e.Pos, want)
			}
			if !strings.HasPrefix(e.Msg, tt.msg) {
				t.Errorf("message\n got %q\nwant %q...", e.Msg, tt.msg)
			}
			if !strings.Contains(e.Hint, "cannot be interrupted") {
				t.Errorf("hint %q", e.Hint)
			}
		})
	}
}

// spinFor returns an args expression that passes the static budget (the
// length of its list is not written, so it counts as 100) but loops, up to
// 10^10 steps, for d of wall-clock time: it stands for any expression the
// static estimate misjudges. Its goroutine cannot be stopped; it ends d
// after it started.
func spinFor(d time.Duration) string {
	return fmt.Sprintf("let t0 = now().UnixMilli(); let xs = 1..(100000 * 1); all(xs, all(xs, now().UnixMilli() < t0 + %d))", d.Milliseconds())
}

// waitForSpinners lets the evaluations a test abandoned end before the next
// test starts: they spin on a CPU and would starve it.
func waitForSpinners(t *testing.T, until time.Time) {
	t.Cleanup(func() { time.Sleep(time.Until(until)) })
}

// TestArgsTimeBudget: an evaluation past the time budget is abandoned by
// the scenario's watchdog: the operation counts as an args error with a
// message naming the expression and the budget, the expression is not
// evaluated again, the other operations go on, and the scenario ends on
// time without waiting for the stuck user.
func TestArgsTimeBudget(t *testing.T) {
	const spin = 3 * time.Second
	arg := spinFor(spin)
	prog := compile(t, `
version: 1
name: arg-time-budget
pool: {size: 2, max_overflow: 0}
mixes:
  m:
    - {name: fast, weight: 3, sql: SELECT 1}
    - {name: slow, weight: 1, sql: SELECT $1::bool, args: [`+arg+`]}
scenarios:
  - {name: s, users: 2, duration: 2s, think: 5ms}
`, engine.Options{})
	const budget = 300 * time.Millisecond
	engine.SetArgTimeout(prog, budget)
	var logs bytes.Buffer
	start := time.Now()
	r := run(t, prog, engine.RunOptions{Logf: func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }})
	waitForSpinners(t, time.Now().Add(spin))
	t.Logf("run took %s; log:\n%s", time.Since(start).Round(time.Millisecond), logs.String())
	sc := r.Scenarios[0]
	if sc.Status != results.StatusCompleted {
		t.Errorf("status %s", sc.Status)
	}
	if sc.ErrorsBy[results.ErrArgs] < 1 {
		t.Fatalf("errors by category %v, want args errors", sc.ErrorsBy)
	}
	sample := sc.ErrorSamples[results.ErrArgs]
	for _, want := range []string{"slow: ", arg, "past its time budget of 300ms", "not evaluated again"} {
		if !strings.Contains(sample, want) {
			t.Errorf("args error sample %q lacks %q", sample, want)
		}
	}
	var fast, slow results.Operation
	for _, o := range sc.Operations {
		switch o.Name {
		case "fast":
			fast = o
		case "slow":
			slow = o
		}
	}
	if fast.Ops == 0 || fast.Errors != 0 {
		t.Errorf("fast: %d ops, %d errors: the other operations should go on", fast.Ops, fast.Errors)
	}
	if slow.Errors != slow.Ops || slow.Ops < 1 {
		t.Errorf("slow: %d ops, %d errors: every evaluation should fail (the first abandoned, the others refused)", slow.Ops, slow.Errors)
	}
	if sc.Leaks != 0 {
		t.Errorf("%d leaks: a user stuck in an expression holds no connection (%v)", sc.Leaks, sc.LeakDetails)
	}
}

// TestInterruptAbandonsArgs: an interrupt ends the run at once even when the
// users are inside an expression that runs 4 s and whose time budget is an
// hour; teardown still runs.
func TestInterruptAbandonsArgs(t *testing.T) {
	const spin = 4 * time.Second
	prog := compile(t, `
version: 1
name: interrupt-args
pool: {size: 2, max_overflow: 0}
setup: [CREATE TABLE IF NOT EXISTS engine_interrupt_args (id int)]
teardown: [DROP TABLE IF EXISTS engine_interrupt_args]
mixes:
  m:
    - {name: slow, sql: SELECT $1::bool, args: [`+spinFor(spin)+`]}
scenarios:
  - {name: s, users: 2, duration: 60s}
`, engine.Options{})
	engine.SetArgTimeout(prog, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	var interrupted time.Time
	r, err := engine.Run(ctx, prog, engine.RunOptions{Live: onSecond(func(*live.Snapshot) {
		if interrupted.IsZero() { // after the scenario's first second: both users are in the expression
			interrupted = time.Now()
			cancel()
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(interrupted)
	waitForSpinners(t, time.Now().Add(spin))
	t.Logf("the interrupt stopped the run in %s", took.Round(time.Millisecond))
	// The evaluations started about a second before the interrupt and run
	// 4 s: a run that waited for them would take 3 s or more (it takes
	// 0.1-0.3 s, on a busy machine too).
	if took > 2*time.Second {
		t.Errorf("the interrupt took %s to stop users stuck in an expression", took)
	}
	sc := r.Scenarios[0]
	if r.Status != results.StatusInterrupted || sc.Status != results.StatusInterrupted {
		t.Errorf("status %s / %s", r.Status, sc.Status)
	}
	if sc.Cancelled != 2 || sc.Ops != 0 {
		t.Errorf("cancelled %d, ops %d (%v): want the 2 evaluations cancelled and nothing else", sc.Cancelled, sc.Ops, sc.ErrorsBy)
	}
	if tableExists(t, "engine_interrupt_args") {
		t.Error("teardown did not run after the interrupt")
	}
}

// TestArgsNodeBudget: an args expression longer than exprbudget.MaxNodes is
// refused with a message that says so and a hint, not expr's "compilation
// failed".
func TestArgsNodeBudget(t *testing.T) {
	long := "randChoice([" + strings.Repeat("1, ", 2100) + "1])"
	src := "version: 1\nname: t\nmixes:\n  app:\n    - name: read\n      sql: SELECT $1\n      args:\n        - " + long + "\n" +
		"scenarios:\n  - {name: s, users: 1, duration: 1s}\n"
	plan, err := schema.Parse("plan.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Compile(plan, engine.Options{})
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("Compile error %v, want one schema.Errors entry", err)
	}
	e := es[0]
	if e.Pos.Line != 8 || e.Msg != "args expression is too long: more than 2,000 syntax nodes" || !strings.Contains(e.Hint, "table") {
		t.Errorf("got %s: %s (hint %q)", e.Pos, e.Msg, e.Hint)
	}
}
