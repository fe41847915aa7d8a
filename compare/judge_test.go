package compare_test

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/results"
)

// timeoutFixture is the report a user sent: a new run with a 200ms
// pool.timeout in which 73.6% of the operations failed on it, so its
// acquire.p95 fell from 298ms to 203ms.
func timeoutFixture() (base, new *results.Run) {
	base = run(scenario("peak", func(s *results.Scenario) {
		s.Acquire = lat(20*ms, 298*ms, 400*ms, 900*ms)
		s.Op = lat(40*ms, 330*ms, 450*ms, 950*ms)
	}), scenario("normal", nil))
	new = run(scenario("peak", func(s *results.Scenario) {
		s.Acquire = lat(15*ms, 203*ms, 204*ms, 210*ms)
		s.Op = lat(30*ms, 205*ms, 220*ms, 260*ms)
		s.Errors, s.SuccessRate, s.Throughput = 7360, 1-0.736, 126
		s.ErrorsBy = map[string]int64{results.ErrAcquireTimeout: 7360}
	}), scenario("normal", func(s *results.Scenario) {
		s.Query.P95 = 8 * ms // +100%: a regression, but not about errors
	}))
	new.Pool.Timeout = 200 * ms
	return base, new
}

func TestErrorsFirst(t *testing.T) {
	base, new := timeoutFixture()
	c := compare.Runs(base, new, compare.Options{})

	ranked := c.Ranked()
	if len(ranked) == 0 {
		t.Fatal("no regressions")
	}
	var order []string
	for _, r := range ranked {
		order = append(order, r.Scenario+" "+r.Name())
	}
	want := []string{"peak success_rate", "peak timeouts", "peak errors"}
	if got := strings.Join(order[:3], ", "); got != strings.Join(want, ", ") {
		t.Errorf("first regressions = %s; want %s (all: %s)", got, strings.Join(want, ", "), strings.Join(order, ", "))
	}
	if r := ranked[0]; r.Note != "7,360 of 10,000 operations failed, 7,360 of them waiting 200ms (pool.timeout) for a connection" {
		t.Errorf("success_rate note = %q", r.Note)
	}

	t.Run("no improvement when errors rose", func(t *testing.T) {
		for _, metric := range []string{"acquire.p95", "acquire.p99", "op.p95", "op.p99"} {
			r := findRow(t, c, "peak", metric)
			if r.Improvement {
				t.Errorf("%s is an improvement although 73.6%% of operations failed: %+v", metric, r)
			}
			if r.Note != "not an improvement: latency fell because 73.6% of operations failed at the 200ms timeout" {
				t.Errorf("%s note = %q", metric, r.Note)
			}
		}
		if c.Improvements != 0 {
			t.Errorf("Improvements = %d, want 0", c.Improvements)
		}
	})

	t.Run("first line", func(t *testing.T) {
		var md, table bytes.Buffer
		if err := c.Markdown(&md); err != nil {
			t.Fatal(err)
		}
		if err := c.Table(&table, false); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(md.String(), "\n")
		if !strings.HasPrefix(first, "5 regressions beyond 10% and the noise: peak success_rate 100% → 26.4% (−73.6 pt") {
			t.Errorf("markdown first line = %q", first)
		}
		if !strings.Contains(first, "7,360 of them waiting 200ms (pool.timeout) for a connection") {
			t.Errorf("markdown first line does not say why: %q", first)
		}
		// The table starts with the change of pool.timeout, then the
		// regressions, errors first.
		lines := strings.Split(table.String(), "\n")
		wantStart := []string{
			compare.HeadingChanges + ":",
			"  pool: timeout 30s → 200ms",
			"",
			compare.HeadingRegressions + ":",
		}
		for i, w := range wantStart {
			if i >= len(lines) || lines[i] != w {
				t.Fatalf("table line %d = %q, want %q\n%s", i+1, lines[i], w, table.String())
			}
		}
		if !strings.HasPrefix(lines[4], "  1. peak success_rate 100% → 26.4%") {
			t.Errorf("first regression line = %q", lines[4])
		}
		if strings.Contains(table.String(), compare.MarkImprovement) || strings.Contains(md.String(), compare.MarkImprovement) {
			t.Errorf("an improvement is shown:\n%s", table.String())
		}
	})
}

func TestChangesHeader(t *testing.T) {
	base, new := run(scenario("a", nil)), run(scenario("a", nil))
	base.Target = results.Target{URL: "postgres://postgres@127.0.0.1:38393/postgres", Embedded: true, ServerVersion: "15.18", Replicas: 1, Driver: "pgx", MaxConnections: 100}
	new.Target = results.Target{URL: "postgres://app:xxxxx@db.internal:5432/app", ServerVersion: "16.4", Replicas: 2, Driver: "pgx", MaxConnections: 500, TLS: true}
	new.Pool.Size, new.Pool.MaxOverflow = 10, 5
	new.Plan.SHA256 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	c := compare.Runs(base, new, compare.Options{})
	want := []string{
		"target: embedded server → postgres://app:xxxxx@db.internal:5432/app; TLS off → on; server 15.18 → 16.4; replicas 1 → 2; max_connections 100 → 500",
		"pool: size 20 → 10; max_overflow 30 → 5",
		"plan: the file differs, sha256 aaaaaaaaaaaa → bbbbbbbbbbbb",
	}
	if got := strings.Join(c.Changes, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("Changes:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	var table, md bytes.Buffer
	if err := c.Table(&table, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	wantTable := compare.HeadingChanges + ":\n  " + strings.Join(want, "\n  ") + "\n\n"
	if !strings.HasPrefix(table.String(), wantTable) {
		t.Errorf("table does not start with the changes:\n%s", table.String())
	}
	_, rest, _ := strings.Cut(md.String(), "\n\n") // after the summary line
	wantMD := "#### " + compare.HeadingChanges + "\n\n- " + strings.Join(want, "\n- ") + "\n\n"
	if !strings.HasPrefix(rest, wantMD) {
		t.Errorf("markdown does not follow its summary line with the changes:\n%s", md.String())
	}

	t.Run("embedded servers on new ports are the same target", func(t *testing.T) {
		a, b := run(scenario("a", nil)), run(scenario("a", nil))
		a.Target = results.Target{URL: "postgres://postgres@127.0.0.1:38393/postgres", Embedded: true, ServerVersion: "15.18"}
		b.Target = results.Target{URL: "postgres://postgres@127.0.0.1:44179/postgres", Embedded: true, ServerVersion: "15.18"}
		if c := compare.Runs(a, b, compare.Options{}); len(c.Changes) != 0 {
			t.Errorf("Changes = %q, want none", c.Changes)
		}
	})
}

func TestRankedOrder(t *testing.T) {
	base := run(
		scenario("a", nil),
		scenario("b", nil),
		scenario("c", nil),
	)
	new := run(
		// a: +50% acquire.p95 and −30% throughput; 1% errors.
		scenario("a", func(s *results.Scenario) {
			s.Acquire.P95 = 3 * ms
			s.Throughput = 336
			s.Errors, s.SuccessRate = 100, 0.99
		}),
		// b: op.p95 ×4 (the farthest past its threshold).
		scenario("b", func(s *results.Scenario) { s.Op.P95 = 100 * ms }),
		// c: 20% errors, most of them timeouts: the worst error rate.
		scenario("c", func(s *results.Scenario) {
			s.Errors, s.SuccessRate = 2000, 0.8
			s.ErrorsBy = map[string]int64{results.ErrAcquireTimeout: 1500}
		}),
	)
	c := compare.Runs(base, new, compare.Options{})
	var got []string
	for _, r := range c.Ranked() {
		got = append(got, r.Scenario+" "+r.Name())
	}
	want := []string{
		"c success_rate", "c timeouts", "c errors", // highest error rate first
		"a success_rate", "a errors",
		"b op.p95", "a acquire.p95", "a throughput", // then by how far past the threshold
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("Ranked:\n  %s\nwant:\n  %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	for _, r := range c.Ranked() {
		if !r.Errors && !(r.Excess > 1) {
			t.Errorf("%s %s: Excess %v, want > 1", r.Scenario, r.Name(), r.Excess)
		}
	}

	var md bytes.Buffer
	if err := c.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	_, list, _ := strings.Cut(md.String(), "#### "+compare.HeadingRegressions+"\n\n")
	for i, w := range want {
		line, rest, _ := strings.Cut(list, "\n")
		list = rest
		prefix := strconv.Itoa(i+1) + ". " + w + " "
		if !strings.HasPrefix(line, prefix) {
			t.Errorf("markdown regression %d = %q, want prefix %q", i+1, line, prefix)
		}
	}
}

func TestNoise(t *testing.T) {
	// The same +30% query.p95, once in runs whose windows agree within a
	// few percent and once in runs whose windows swing by ±40%.
	swing := func(s *results.Scenario) {
		for i := range s.Series {
			f := 1.0 + 0.4*float64(1-2*(i%2))
			s.Series[i].QueryP95 = time.Duration(float64(s.Query.P95) * f)
		}
	}
	steadyBase := run(scenario("s", func(s *results.Scenario) { s.Query.P95 = 10 * ms }))
	steadyNew := run(scenario("s", func(s *results.Scenario) { s.Query.P95 = 13 * ms }))
	noisyBase := run(scenario("s", func(s *results.Scenario) { s.Query.P95 = 10 * ms; s.Series = steadySeries(s, 10); swing(s) }))
	noisyNew := run(scenario("s", func(s *results.Scenario) { s.Query.P95 = 13 * ms; s.Series = steadySeries(s, 10); swing(s) }))

	steady := findRow(t, compare.Runs(steadyBase, steadyNew, compare.Options{}), "s", "query.p95")
	if !steady.Regression {
		t.Errorf("steady windows: +30%% is not a regression: %+v", steady)
	}
	noisy := findRow(t, compare.Runs(noisyBase, noisyNew, compare.Options{}), "s", "query.p95")
	if noisy.Regression {
		t.Errorf("windows swinging ±40%%: +30%% is a regression: %+v", noisy)
	}
	if !strings.HasPrefix(noisy.Note, "within the noise (±") {
		t.Errorf("noisy note = %q", noisy.Note)
	}
	if !(noisy.Noise > steady.Noise) {
		t.Errorf("noise: noisy %v, steady %v", noisy.Noise, steady.Noise)
	}

	t.Run("reproducible", func(t *testing.T) {
		again := findRow(t, compare.Runs(noisyBase, noisyNew, compare.Options{}), "s", "query.p95")
		if again.Noise != noisy.Noise {
			t.Errorf("Noise = %v then %v", noisy.Noise, again.Noise)
		}
	})

	t.Run("two windows are wider than ten", func(t *testing.T) {
		// The same window-to-window swing: with only two windows the
		// spread itself is uncertain and the interval widens (Student t).
		two := func(p time.Duration) *results.Run {
			return run(scenario("s", func(s *results.Scenario) { s.Query.P95 = p; s.Series = steadySeries(s, 2); swing(s) }))
		}
		r2 := findRow(t, compare.Runs(two(10*ms), two(13*ms), compare.Options{}), "s", "query.p95")
		if !(r2.Noise > 2*noisy.Noise) {
			t.Errorf("noise with 2 windows %v, with 10 windows %v", time.Duration(r2.Noise), time.Duration(noisy.Noise))
		}
	})

	t.Run("no series", func(t *testing.T) {
		b := run(scenario("s", func(s *results.Scenario) { s.Series = []results.Point{} }))
		n := run(scenario("s", func(s *results.Scenario) { s.Series = []results.Point{} }))
		c := compare.Runs(b, n, compare.Options{})
		if len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "fewer than 2 full one-second windows in a run of s") {
			t.Errorf("Notes = %q", c.Notes)
		}
	})
}

func TestSeveralBaselines(t *testing.T) {
	withP95 := func(p time.Duration) *results.Run {
		return run(scenario("s", func(s *results.Scenario) { s.Op.P95 = p }))
	}
	tests := []struct {
		name       string
		bases      []time.Duration
		new        time.Duration
		regression bool
	}{
		{"within the baselines' spread", []time.Duration{80 * ms, 100 * ms, 125 * ms}, 130 * ms, false},
		{"beyond tight baselines", []time.Duration{99 * ms, 100 * ms, 101 * ms}, 130 * ms, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bases []*results.Run
			for _, p := range tt.bases {
				bases = append(bases, withP95(p))
			}
			c := compare.Baselines(bases, withP95(tt.new), compare.Options{})
			r := findRow(t, c, "s", "op.p95")
			if r.Regression != tt.regression {
				t.Errorf("Regression = %t, want %t: %+v", r.Regression, tt.regression, r)
			}
			var geo float64
			for _, p := range tt.bases {
				geo += math.Log(float64(p))
			}
			if want := math.Exp(geo / float64(len(tt.bases))); math.Abs(r.Base-want) > 1 {
				t.Errorf("Base = %v, want the geometric mean %v", time.Duration(r.Base), time.Duration(want))
			}
			var buf bytes.Buffer
			if err := c.Table(&buf, false); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "base (mean of 3)") {
				t.Errorf("the table header does not say the base is a mean of 3:\n%s", buf.String())
			}
		})
	}
}

func TestOperations(t *testing.T) {
	ops := func(slow time.Duration, errs int64) []results.Operation {
		return []results.Operation{
			{Name: "balance", Weight: 70, Ops: 7000, Op: lat(2*ms, 10*ms, 20*ms, 50*ms)},
			{Name: "report", Weight: 30, Ops: 3000, Errors: errs, Op: lat(20*ms, slow, 2*slow, 3*slow)},
		}
	}
	base := run(scenario("s", func(s *results.Scenario) { s.Operations = ops(40*ms, 0) }))
	new := run(scenario("s", func(s *results.Scenario) { s.Operations = ops(90*ms, 3) }))
	c := compare.Runs(base, new, compare.Options{})
	for _, tt := range []struct {
		op, metric string
		regression bool
	}{
		{"balance", "op.p95", false},
		{"balance", "throughput", false},
		{"report", "op.p95", true},
		{"report", "op.p99", true},
		{"report", "errors", true},
	} {
		var row *compare.Row
		for i, r := range c.Rows {
			if r.Operation == tt.op && r.Metric == tt.metric {
				row = &c.Rows[i]
			}
		}
		if row == nil {
			t.Errorf("no row %s %s", tt.op, tt.metric)
			continue
		}
		if row.Regression != tt.regression {
			t.Errorf("%s: Regression = %t, want %t: %+v", row.Name(), row.Regression, tt.regression, *row)
		}
	}
	for _, r := range c.Rows {
		if r.Operation == "balance" && r.Metric == "errors" {
			t.Errorf("an errors row for an operation without errors in either run: %+v", r)
		}
	}
	if r := findRow(t, c, "s", "report · op.p95"); r.Name() != "report · op.p95" {
		t.Errorf("Name = %q", r.Name())
	}
}

func TestFamilyFactor(t *testing.T) {
	for _, tt := range []struct {
		m    int
		want float64
	}{
		{1, 1},
		{2, 2.2414 / 1.96}, // z(1 − 0.0125)
		{20, 3.0233 / 1.96},
		{100, 3.4808 / 1.96},
	} {
		if got := compare.FamilyFactor(tt.m); math.Abs(got-tt.want) > 1e-3 {
			t.Errorf("FamilyFactor(%d) = %.4f, want %.4f", tt.m, got, tt.want)
		}
	}
}

func TestRecoveryNeedsBaselines(t *testing.T) {
	rec := func(d time.Duration) *results.Run {
		return run(scenario("s", func(s *results.Scenario) {
			s.Recovery = &results.Recovery{Duration: d, Status: results.RecoveryRecovered}
		}))
	}
	one := findRow(t, compare.Runs(rec(300*ms), rec(900*ms), compare.Options{}), "s", "recovery")
	if one.Regression || one.Note != "not judged: one event per run, its noise needs several baselines" {
		t.Errorf("one baseline: %+v", one)
	}
	several := findRow(t, compare.Baselines([]*results.Run{rec(300 * ms), rec(320 * ms), rec(310 * ms)}, rec(900*ms), compare.Options{}), "s", "recovery")
	if !several.Regression {
		t.Errorf("three close baselines: %+v", several)
	}
	within := findRow(t, compare.Baselines([]*results.Run{rec(300 * ms), rec(320 * ms), rec(310 * ms)}, rec(380*ms), compare.Options{}), "s", "recovery")
	if within.Regression || within.Note != "noise: under 100ms" {
		t.Errorf("+70ms, under the 100ms resolution: %+v", within)
	}
}
