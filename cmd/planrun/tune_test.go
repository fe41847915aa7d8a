package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tune"
)

// tuning runs planrun tune with --format json and decodes its record.
func tuning(t *testing.T, args ...string) (result, results.Tuning) {
	t.Helper()
	r := planrun(t, append([]string{"tune", "--format", "json", "--quiet"}, args...)...)
	var rec results.Tuning
	if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
		t.Fatalf("decoding the tuning: %v\n%s", err, r)
	}
	return r, rec
}

// TestTuneFindsTheSmallestPassingSize: testdata/tune.yaml keeps about 2
// connections busy; `acquire.p95 < 20ms` needs a few more. Whatever size
// the bisection settles on, the runs' own figures must agree with it: the
// smallest passing size passed with its p95 under 20 ms, the size below it
// failed, and every try's verdict matches its own figures.
func TestTuneFindsTheSmallestPassingSize(t *testing.T) {
	useDB(t)
	out := t.TempDir()
	r, rec := tuning(t, plan("tune"), "--scenario", "steady", "--size", "1..6", "--time-scale", "0.75", "--out", out)
	if r.code != ExitApproved && r.code != ExitNotApproved {
		t.Fatalf("want exit 0 (found one)\n%s", r)
	}
	if rec.Stated != (results.TuningConfig{Size: 2, MaxOverflow: 0}) || len(rec.Tries) == 0 || rec.Tries[0].Why != "plan" ||
		rec.Tries[0].Size != 2 {
		t.Errorf("the first try must be the plan's configuration, size 2: %+v", rec.Tries)
	}
	limit := 20 * time.Millisecond
	last := map[int]results.TuningTry{} // the conclusive try at each size
	for _, tr := range rec.Tries {
		if tr.MaxOverflow != 0 {
			t.Errorf("try %+v: max_overflow must stay the plan's 0", tr)
		}
		switch tr.Verdict {
		case results.TunePass:
			if tr.AcquireP95 >= limit || tr.SuccessRate < 0.95 {
				t.Errorf("try %+v passed, but its own acquire p95 or success rate fails the plan's checks", tr)
			}
			last[tr.Size] = tr
		case results.TuneFail:
			if tr.AcquireP95 < limit && tr.SuccessRate >= 0.95 {
				t.Errorf("try %+v failed, yet its own figures pass (reason %q)", tr, tr.Reason)
			}
			last[tr.Size] = tr
		case results.TuneInconclusive:
		default:
			t.Errorf("try %+v: unexpected verdict", tr)
		}
	}
	if r.code == ExitNotApproved && rec.Exit == "none_passes" && rec.Smallest == nil {
		// Every try failed by its own figures (checked above): on a
		// machine this busy even 6 connections wait past 20 ms, and the
		// search said so honestly; where the smallest lies cannot be judged.
		t.Skipf("no size passed on this busy machine (every try failed by its own figures): %s", summaryOf(rec))
	}
	if r.code != ExitApproved || rec.Smallest == nil || rec.Exit != "found" || rec.Scenario != "steady" {
		t.Fatalf("tuning %+v; want a smallest configuration found for steady, exit 0\n%s", rec, r)
	}
	s := rec.Smallest.Size
	if tr, ok := last[s]; !ok || tr.Verdict != results.TunePass {
		t.Errorf("smallest size %d: no passing try there: %+v", s, rec.Tries)
	}
	if s > 1 {
		if tr, ok := last[s-1]; !ok || tr.Verdict != results.TuneFail {
			t.Errorf("smallest size %d: size %d below it was not seen to fail: %+v", s, s-1, rec.Tries)
		}
	}
	for size, tr := range last {
		if size < s && tr.Verdict == results.TunePass {
			t.Errorf("size %d passed below the smallest reported, %d", size, s)
		}
	}
	if rec.SizeBracket.PassedAt != s {
		t.Errorf("size bracket %+v, want passed at %d", rec.SizeBracket, s)
	}
	t.Logf("tries: %s", summaryOf(rec))

	// The files --out wrote: the same record, and the markdown with its chart.
	for _, ext := range []string{".json", ".md", ".html"} {
		m, _ := filepath.Glob(filepath.Join(out, "tune_tune_*"+ext))
		if len(m) != 1 {
			t.Fatalf("--out: want one %s file, got %v", ext, m)
		}
		b, err := os.ReadFile(m[0])
		if err != nil {
			t.Fatal(err)
		}
		switch ext {
		case ".md":
			for _, want := range []string{"xychart-beta", "Smallest passing configuration: pool.size"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("%s lacks %q:\n%s", m[0], want, b)
				}
			}
		case ".html":
			if !strings.Contains(string(b), "<svg") {
				t.Errorf("%s has no chart", m[0])
			}
		}
	}
}

// TestTuneNothingPasses: at sizes 1..2 the pool cannot keep up with about
// 2 busy connections: exit 1, and every try failed by its own figures.
func TestTuneNothingPasses(t *testing.T) {
	useDB(t)
	r, rec := tuning(t, plan("tune"), "--scenario", "steady", "--size", "1..2", "--time-scale", "0.5")
	if r.code != ExitNotApproved {
		t.Fatalf("want exit 1 (none in the range passes)\n%s", r)
	}
	if rec.Smallest != nil || rec.Exit != "none_passes" {
		t.Errorf("tuning %+v: want none passing", rec)
	}
	for _, tr := range rec.Tries {
		if tr.Verdict != results.TuneFail && tr.Verdict != results.TuneInconclusive {
			t.Errorf("try %+v: want a failure", tr)
		}
	}
	t.Logf("tries: %s", summaryOf(rec))
}

func TestTuneUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"tune", plan("tune")}, "--scenario"},
		{"bad range", []string{"tune", plan("tune"), "--scenario", "steady", "--size", "5..2"}, "empty"},
		{"size zero", []string{"tune", plan("tune"), "--scenario", "steady", "--size", "0..2"}, "from 1"},
		{"unknown scenario", []string{"tune", plan("tune"), "--scenario", "nope"}, "not a scenario"},
		{"junit", []string{"tune", plan("tune"), "--scenario", "steady", "--format", "junit"}, "unknown --format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", "postgres://127.0.0.1:1/none")
			r := planrun(t, tt.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("want exit 2 saying %q\n%s", tt.want, r)
			}
		})
	}
}

func summaryOf(rec results.Tuning) string {
	var b strings.Builder
	for _, tr := range rec.Tries {
		b.WriteString("\n  ")
		b.WriteString(strings.Join([]string{tr.Why, strconv.Itoa(tr.Size) + "+" + strconv.Itoa(tr.MaxOverflow), tr.AcquireP95.String(), tr.Verdict}, " "))
	}
	return b.String()
}

// TestTuneReadsTheFirstRunsRecommendations: the model's candidate and the
// predictions come from the first run's recommendations, matched to a try
// by its connections.
func TestTuneReadsTheFirstRunsRecommendations(t *testing.T) {
	tn := &tuner{rec: results.Tuning{Scenario: "steady"}}
	run := &results.Run{
		Scenarios: []results.Scenario{{Name: "steady", Ops: 200, SuccessRate: 0.9,
			Acquire: results.Latency{P95: 40 * time.Millisecond, P99: 90 * time.Millisecond}, ErrorsBy: map[string]int64{results.ErrAcquireTimeout: 20}}},
		Recommendations: &results.Recommendations{
			Pool: results.PoolAdvice{Size: 4, MaxOverflow: 1},
			Scenarios: []results.ScenarioAdvice{{Scenario: "steady",
				Current:     results.PoolPrediction{Connections: 2, AcquireP95: 35 * time.Millisecond},
				Recommended: results.PoolPrediction{Connections: 5, AcquireP95: 3 * time.Millisecond}}},
		},
	}
	tr := results.TuningTry{Size: 2}
	tn.measure(&tr, run)
	if tr.AcquireP95 != 40*time.Millisecond || tr.Timeouts != 20 || tr.TimeoutRate != 0.1 || tr.SuccessRate != 0.9 || tr.PredictedP95 != 35*time.Millisecond {
		t.Errorf("first try %+v", tr)
	}
	if tn.rec.Recommendations != run.Recommendations {
		t.Errorf("the tuning must carry the first run's recommendations")
	}
	m := tn.model()
	if m == nil || m.Size != 4 || m.MaxOverflow != 1 || tn.rec.Model == nil {
		t.Fatalf("model candidate %+v, want size 4, max_overflow 1", m)
	}
	next := results.TuningTry{Size: 4, MaxOverflow: 1}
	tn.measure(&next, &results.Run{Scenarios: run.Scenarios}) // a later run's recommendations are not read
	if next.PredictedP95 != 3*time.Millisecond || tn.rec.Note != "" {
		t.Errorf("model's try %+v, note %q: want the recommended prediction", next, tn.rec.Note)
	}

	none := &tuner{rec: results.Tuning{Scenario: "steady"}}
	none.measure(&results.TuningTry{}, &results.Run{})
	if none.model() != nil || none.rec.Note == "" {
		t.Errorf("without recommendations: want no candidate and a note, got note %q", none.rec.Note)
	}
}

// TestTuneConfirmsTheRecommendedSize is the test: the queue model's
// recommended size, from the first run of testdata/tune-confirm.yaml (an
// open model, Poisson arrivals at 100/s holding 20 ms, target acquire.p95
// < 20ms), agrees with the smallest size tune's bisection over 1..8 finds
// by runs within ±1 connection (tune.ConfirmWithin), and tune reports the
// recommendation as confirmed, in JSON and in its summary line. Everything
// is read from the runs: a tuning whose runs stayed inconclusive (the
// generator fell behind), or whose first run waited longer than the model
// predicts beyond its margin (the machine, not the pool, made the waits),
// is skipped with the reason.
func TestTuneConfirmsTheRecommendedSize(t *testing.T) {
	useDB(t)
	r, rec := tuning(t, plan("tune-confirm"), "--scenario", "steady", "--size", "1..8")
	t.Logf("tries (why size+overflow measured-p95 verdict):%s", summaryOf(rec))
	for _, tr := range rec.Tries {
		t.Logf("  %s %d+%d: acquire p95 measured %v, predicted %v, p99 %v, timeouts %d, verdict %s %s",
			tr.Why, tr.Size, tr.MaxOverflow, tr.AcquireP95, tr.PredictedP95, tr.AcquireP99, tr.Timeouts, tr.Verdict, tr.Reason)
	}
	if len(rec.Tries) == 0 || rec.Tries[0].Why != "plan" {
		t.Fatalf("want the plan's configuration tried first\n%s", r)
	}
	if first := rec.Tries[0]; first.Verdict == results.TuneInconclusive {
		t.Skipf("the first run, whose recommendations give the model's candidate, was inconclusive (%s): the load it measured is not the one modelled", first.Reason)
	}
	rc := rec.Recommendations
	if rc == nil || len(rc.Scenarios) != 1 || rec.Model == nil {
		t.Fatalf("want the first run's recommendations for steady and the model's candidate: %+v, model %+v\n%s", rc, rec.Model, r)
	}
	a := rc.Scenarios[0]
	t.Logf("first run: %.1f acquires/s, hold mean %v p95 %v; acquire p95 measured %v predicted %v (trusted %v %s)",
		a.Rate, a.HoldMean, a.HoldP95, a.Measured.AcquireP95, a.Current.AcquireP95, a.Trusted, a.Why)
	t.Logf("recommended: size %d + max_overflow %d (target %s < %v), predicted p95 %v; tune: exit %s, smallest %+v; %s",
		rc.Pool.Size, rc.Pool.MaxOverflow, rc.Target.Figure, rc.Target.Limit, a.Recommended.AcquireP95, rec.Exit, rec.Smallest, rec.ExitReason)
	if rc.Target.Figure != "acquire.p95" || rc.Target.Limit != 20*time.Millisecond {
		t.Errorf("target %+v: want the plan's acquire.p95 < 20ms", rc.Target)
	}
	if *rec.Model != (results.TuningConfig{Size: rc.Pool.Size, MaxOverflow: rc.Pool.MaxOverflow}) || rc.Pool.MaxOverflow != 0 {
		t.Errorf("model candidate %+v, recommendations' pool %+v: want the same, with max_overflow 0", rec.Model, rc.Pool)
	}
	// A first run that waited longer than the model predicts beyond its
	// margin measured waits the queue does not explain (a busy machine
	// delays each handover): the candidate it gave is not judged. One that
	// waited less (a short run's p95 varies) still is: the runs decide.
	if !a.Trusted && a.Measured.AcquireP95 > a.Current.AcquireP95 {
		t.Skipf("the first run waited longer than the model predicts (%s): on this busy machine the waits are not the pool's, so its recommendation is not judged", a.Why)
	}
	if rec.Exit == "inconclusive" {
		t.Skipf("the bisection stopped on a run that stayed inconclusive (the generator fell behind): %s", rec.ExitReason)
	}
	if r.code != ExitApproved || rec.Exit != "found" || rec.Smallest == nil {
		t.Fatalf("want a smallest passing size found in 1..8 (exit 0)\n%s", r)
	}
	recommended := rc.Pool.Size + rc.Pool.MaxOverflow
	found := rec.Smallest.Size + rec.Smallest.MaxOverflow
	diff := found - recommended
	t.Logf("recommended %d connections, tune found %d: difference %+d", recommended, found, diff)
	if diff < -1 || diff > 1 {
		t.Errorf("the model recommended %d connections, the runs found %d: beyond ±1", recommended, found)
	}
	if rc.Pool.Confirmed != (diff >= -1 && diff <= 1) {
		t.Errorf("recommendations.pool.confirmed %v for a difference of %+d", rc.Pool.Confirmed, diff)
	}
	md := planrunOutput(t, rec)
	if rc.Pool.Confirmed != (strings.Contains(md, "confirmed by runs") && !strings.Contains(md, "not confirmed by runs")) {
		t.Errorf("the markdown summary does not say confirmed %v:\n%s", rc.Pool.Confirmed, md)
	}
}

// planrunOutput renders a tuning as markdown.
func planrunOutput(t *testing.T, rec results.Tuning) string {
	t.Helper()
	var b strings.Builder
	if err := tune.Render(&b, "markdown", &rec); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
