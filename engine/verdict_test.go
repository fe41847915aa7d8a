package engine_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// runJudged runs a plan written inline against the test server and judges
// it with its own assertions (and the built-in checks), as `planrun` does.
func runJudged(t *testing.T, src string) *results.Run {
	t.Helper()
	plan, err := schema.Parse(t.Name()+".yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	plan.Target.URL = localpgtest.DSN(t)
	plan.Target.ApplicationName = fmt.Sprintf("planrun-test-%d-%d", os.Getpid(), appSeq.Add(1))
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("plan does not compile:\n%v", err)
	}
	set, err := assertions.Compile(plan)
	if err != nil {
		t.Fatalf("assertions do not compile:\n%v", err)
	}
	r := run(t, prog, engine.RunOptions{})
	r.Assertions, r.Verdict = set.Evaluate(r, nil)
	return r
}

// bandOf logs and returns the scenario's measurement error.
func bandOf(t *testing.T, sc results.Scenario) results.Generator {
	t.Helper()
	g := sc.Generator
	t.Logf("%s: band ±%s (timer lateness p50 %s, p99 %s, mean %s); CPU planrun %.2f, server %.2f, machine %.2f of %d",
		sc.Name, humanize.Duration(g.Band()), humanize.Duration(g.TimerLateness.P50), humanize.Duration(g.TimerLateness.P99),
		humanize.Duration(g.TimerLateness.Mean), g.CPU, g.ServerCPU, g.MachineCPU, g.Cores)
	return g
}

// A closed model with no think time keeps every core busy by design, so the
// generator's timers run late by anything from microseconds to tens of
// milliseconds. Figures far inside their thresholds are decided whatever
// that lateness: the run is approved, not inconclusive, also while other
// work competes for the CPU.
func TestSaturatingPlanIsDecided(t *testing.T) {
	r := runJudged(t, `
version: 1
name: saturating
pool: {size: 6, max_overflow: 0, timeout: 10s}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, users: 16, duration: 3s}
assertions:
  - {name: acquire p95 under 1s, check: acquire.p95 < 1s}
  - {name: no stalls, check: op.max < 5s}
`)
	sc := r.Scenarios[0]
	g := bandOf(t, sc)
	t.Logf("ops %d, errors %d, acquire p95 %s, op max %s; verdict %q %s", sc.Ops, sc.Errors,
		humanize.Duration(sc.Acquire.P95), humanize.Duration(sc.Op.Max), r.Verdict.Label, r.Verdict.Reason)
	if sc.Acquire.P95+g.Band() >= 1e9 || sc.Op.Max+g.Band() >= 5e9 {
		t.Skipf("the machine is so starved that the figures come within their error band of the thresholds (band %s)", humanize.Duration(g.Band()))
	}
	if !r.Verdict.Pass || r.Verdict.Inconclusive || r.Verdict.Label != schema.DefaultVerdictPass {
		t.Errorf("verdict %q (%s), want %q: every figure is far inside its threshold", r.Verdict.Label, r.Verdict.Reason, schema.DefaultVerdictPass)
	}
	for _, o := range r.Assertions {
		// The built-in utilization warning may be undecided: a pool of
		// SELECT 1 is busy for less than the band.
		if o.Undecided && o.Severity == results.SeverityCritical {
			t.Errorf("%s on %s undecided: %s", o.Name, o.Scenario, o.Band)
		}
	}
}

// Division by zero does not depend on the CPU: a plan whose every operation
// fails on the server is not approved however busy the machine, never
// inconclusive.
func TestCertainFailureStands(t *testing.T) {
	r := runJudged(t, `
version: 1
name: all-failing
pool: {size: 4, max_overflow: 0, timeout: 10s}
mixes:
  m:
    - {name: divide, sql: SELECT 1/0}
scenarios:
  - {name: s, users: 8, duration: 2s}
`)
	sc := r.Scenarios[0]
	bandOf(t, sc)
	if sc.Ops == 0 || sc.ErrorsBy[results.ErrQuery] != sc.Ops {
		t.Fatalf("ops %d, errors by category %v: want every operation to fail on the server", sc.Ops, sc.ErrorsBy)
	}
	if r.Verdict.Pass || r.Verdict.Inconclusive || r.Verdict.Label != schema.DefaultVerdictFail {
		t.Errorf("verdict %q (%s), want %q", r.Verdict.Label, r.Verdict.Reason, schema.DefaultVerdictFail)
	}
	for _, o := range r.Assertions {
		if o.Status == results.OutcomeFail && o.Undecided && o.Severity == results.SeverityCritical {
			t.Errorf("%s undecided: %s", o.Name, o.Band)
		}
	}
}

// A threshold within the figure's error band gives an undecided outcome
// and an INCONCLUSIVE verdict that names it. The threshold is derived from
// the run itself: the measured op p50 plus half the measured band, so the
// check passes as measured and fails with the band added.
func TestFigureWithinItsBandIsUndecided(t *testing.T) {
	const src = `
version: 1
name: within-band
pool: {size: 2, max_overflow: 0, timeout: 10s}
mixes:
  m:
    - {name: hold, sql: SELECT 1, hold: 5ms}
scenarios:
  - {name: s, users: 2, duration: 2s}
`
	measured := runJudged(t, src)
	sc := measured.Scenarios[0]
	g := bandOf(t, sc)
	if g.Band() <= 0 {
		t.Fatalf("no error band measured: %+v", g)
	}
	threshold := sc.Op.P50 + g.Band()/2
	check := fmt.Sprintf("op.p50 < duration(%q)", threshold.String())
	plan, err := schema.Parse(t.Name()+".yaml", []byte(src+"assertions:\n  - {name: op p50 near its band, check: '"+check+"'}\n"),
		func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	set, err := assertions.Compile(plan)
	if err != nil {
		t.Fatalf("assertions do not compile:\n%v", err)
	}
	measured.Assertions, measured.Verdict = set.Evaluate(measured, nil)
	v := measured.Verdict
	t.Logf("op p50 %s, check %s: verdict %q: %s", sc.Op.P50, check, v.Label, v.Reason)
	if !v.Inconclusive || v.Pass || v.Label != assertions.LabelInconclusive {
		t.Errorf("verdict %q, want %s", v.Label, assertions.LabelInconclusive)
	}
	if !strings.Contains(v.Reason, "op p50 near its band on s") {
		t.Errorf("reason %q does not name the undecided check", v.Reason)
	}
	for _, o := range measured.Assertions {
		if o.Name == "op p50 near its band" && (!o.Undecided || o.Status != results.OutcomePass || !strings.Contains(o.Band, "fails")) {
			t.Errorf("outcome %+v, want an undecided pass whose band says it fails at one end", o)
		}
	}
}
