package merge_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/merge"
	"github.com/planrun/planrun/results"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// hist records values in a histogram of the engine's geometry
// (tally.Lowest..Highest: 1 µs to one hour, 3 significant figures, ns).
func hist(values []time.Duration) *hdrhistogram.Histogram {
	h := hdrhistogram.New(1000, int64(time.Hour), 3)
	for _, v := range values {
		if err := h.RecordValue(int64(v)); err != nil {
			panic(err)
		}
	}
	return h
}

func lat(values []time.Duration) results.Latency { return hdr.Summarize(hist(values)) }

// spread is n values from lo stepping by step.
func spread(n int, lo, step time.Duration) []time.Duration {
	v := make([]time.Duration, n)
	for i := range v {
		v[i] = lo + time.Duration(i)*step
	}
	return v
}

// segmentSpec is what a test segment measured.
type segmentSpec struct {
	index, count int
	start        time.Time
	acquire, op  []time.Duration
	errors       int64
	replicas     []int
}

// segment builds a segment report of one 10 s scenario "steady" with one
// operation "read", a series of one point a second.
func segment(s segmentSpec) *results.Run {
	ops := int64(len(s.op))
	sc := results.Scenario{
		Name: "steady", Mix: "default", Status: results.StatusCompleted, Model: results.ModelClosed,
		StartedAt: s.start, Planned: 10 * time.Second, Elapsed: 10 * time.Second, MaxUsers: 5,
		Ops: ops, Errors: s.errors, SuccessRate: 1 - float64(s.errors)/float64(ops),
		Throughput: float64(ops-s.errors) / 10,
		Acquire:    lat(s.acquire), Op: lat(s.op), Query: lat(s.op), Hold: lat(s.op),
		Connect:      lat([]time.Duration{ms(3)}),
		GeneratorLag: lat([]time.Duration{ms(1), ms(2)}),
		Generator: results.Generator{
			TimerLateness: results.Latency{Count: 100, Min: ms(1), Mean: ms(2), P50: ms(2), P90: ms(3), P95: ms(3) + time.Duration(s.index), P99: ms(4), Max: ms(5 * s.index)},
			CPU:           0.5, ServerCPU: -1, ServiceCPU: -1, MachineCPU: float64(s.index), Cores: 4,
		},
		Operations: []results.Operation{{Name: "read", Weight: 1, Share: 1, Ops: ops, Errors: s.errors,
			SuccessRate: 1 - float64(s.errors)/float64(ops), Acquire: lat(s.acquire), Query: lat(s.op), Op: lat(s.op)}},
		ErrorsBy:     map[string]int64{results.ErrAcquireTimeout: s.errors},
		ErrorSamples: map[string]string{results.ErrAcquireTimeout: "timeout in segment " + string(rune('0'+s.index))},
		Connections: results.Connections{Opened: 4, Closed: 4, ClosedBy: map[string]int64{results.CloseEnd: 4},
			MaxOpen: 3, Reuse: 1 - 4.0/float64(ops)},
		Utilization: results.Utilization{Mean: 0.2 * float64(s.index), P95: 0.3 * float64(s.index), Max: 0.25 * float64(s.index+1)},
		Exhaustion:  results.Exhaustion{Events: 1, Total: ms(500), Longest: ms(100 * s.index), Timeouts: s.errors},
		Leaks:       1, LeakDetails: []results.Leak{{Operation: "read", User: 1, Held: time.Second, Kind: "held"}},
		SeriesStep: time.Second,
	}
	for _, r := range s.replicas {
		sc.Replicas = append(sc.Replicas, results.Replica{Index: r, Acquires: ops / int64(len(s.replicas)), MaxOpen: 3})
	}
	per := ops / 10
	for i := 1; i <= 10; i++ {
		sc.Series = append(sc.Series, results.Point{T: time.Duration(i) * time.Second, Users: 5, Ops: per, InUse: 2, Idle: 1, Total: 3,
			AcquireP95: ms(i * s.index), OpP95: ms(10)})
	}
	return &results.Run{
		SchemaVersion: results.SchemaVersion, PlanrunVersion: "v1.2.3",
		Plan:      results.PlanInfo{Name: "demo", File: "demo.yaml", SHA256: strings.Repeat("ab", 32)},
		Target:    results.Target{Replicas: len(s.replicas), ApplicationName: "planrun"},
		Pool:      results.Pool{Size: 2, MaxOverflow: 1},
		StartedAt: s.start.Add(-time.Second), FinishedAt: s.start.Add(11 * time.Second),
		Status: results.StatusCompleted, TimeScale: 1, Seed: 42,
		Preflight: []results.Check{{Name: "reachability", Status: results.CheckPass}, {Name: "capacity", Status: results.CheckPass, Critical: true}},
		Scenarios: []results.Scenario{sc},
		Segment:   &results.Segment{Index: s.index, Count: s.count, StartAt: s.start, Replicas: s.replicas},
	}
}

// threeSegments splits known values over three segments.
func threeSegments() ([]merge.Input, []time.Duration, []time.Duration) {
	acq := [][]time.Duration{spread(100, ms(1), 10*time.Microsecond), spread(100, ms(2), 50*time.Microsecond), spread(100, 500*time.Microsecond, ms(1))}
	op := [][]time.Duration{spread(100, ms(10), 100*time.Microsecond), spread(100, ms(20), time.Millisecond), spread(100, ms(5), ms(3))}
	var in []merge.Input
	var allAcq, allOp []time.Duration
	for i := range 3 {
		r := segment(segmentSpec{index: i + 1, count: 3, start: t0, acquire: acq[i], op: op[i], errors: int64(i), replicas: []int{i + 1}})
		in = append(in, merge.Input{File: []string{"a.json", "b.json", "c.json"}[i], Run: r})
		allAcq, allOp = append(allAcq, acq[i]...), append(allOp, op[i]...)
	}
	return in, allAcq, allOp
}

func TestMergeIsExact(t *testing.T) {
	in, allAcq, allOp := threeSegments()
	for k := range in { // a service's CPU, taken with the busiest machine's figures
		in[k].Run.Scenarios[0].Generator.ServiceCPU = float64(k+1) / 10
	}
	// Given out of order: the record lists them in segment order.
	in[0], in[2] = in[2], in[0]
	run, err := merge.Runs(in)
	if err != nil {
		t.Fatal(err)
	}
	if run.Segment != nil || run.Merged == nil || run.Merged.Segments != 3 ||
		strings.Join(run.Merged.Files, " ") != "a.json b.json c.json" {
		t.Fatalf("segment %+v merged %+v; want no segment and the three files in order", run.Segment, run.Merged)
	}
	sc := run.Scenarios[0]
	if want := lat(allAcq); sc.Acquire != want {
		t.Errorf("acquire %+v\nwant    %+v (one histogram of every value)", sc.Acquire, want)
	}
	if want := lat(allOp); sc.Op != want || sc.Operations[0].Op != want {
		t.Errorf("op %+v\nwant %+v", sc.Op, want)
	}
	if sc.Acquire.Count != 300 || sc.Op.Count != 300 {
		t.Errorf("counts %d and %d, want 300", sc.Acquire.Count, sc.Op.Count)
	}
	if sc.Ops != 300 || sc.Errors != 3 || sc.ErrorsBy[results.ErrAcquireTimeout] != 3 || sc.Exhaustion.Timeouts != 3 {
		t.Errorf("ops %d errors %d errors_by %v timeouts %d; want 300, 3, 3, 3", sc.Ops, sc.Errors, sc.ErrorsBy, sc.Exhaustion.Timeouts)
	}
	if sc.SuccessRate != 1-3.0/300 || sc.Operations[0].SuccessRate != sc.SuccessRate || sc.Operations[0].Share != 1 {
		t.Errorf("success rate %v, operation %+v", sc.SuccessRate, sc.Operations[0])
	}
	if sc.Throughput != 297.0/10 {
		t.Errorf("throughput %v, want 29.7", sc.Throughput)
	}
	if sc.MaxUsers != 15 || sc.Connections.Opened != 12 || sc.Connections.ClosedBy[results.CloseEnd] != 12 || sc.Connections.MaxOpen != 9 {
		t.Errorf("max users %d connections %+v; want 15 users, 12 opened and closed, max open 9", sc.MaxUsers, sc.Connections)
	}
	if want := 1 - 12.0/300; diff(sc.Connections.Reuse, want) > 1e-12 {
		t.Errorf("reuse %v, want %v", sc.Connections.Reuse, want)
	}
	if sc.ErrorSamples[results.ErrAcquireTimeout] != "timeout in segment 1" {
		t.Errorf("error sample %q, want the first segment's", sc.ErrorSamples[results.ErrAcquireTimeout])
	}
	if len(sc.Replicas) != 3 || sc.Replicas[0].Index != 1 || sc.Replicas[2].Index != 3 {
		t.Errorf("replicas %+v, want 1, 2, 3 in order", sc.Replicas)
	}
	if run.Target.Replicas != 3 {
		t.Errorf("target replicas %d, want 3", run.Target.Replicas)
	}
	// Utilization: mean over replicas, p95 and max the largest.
	if want := (0.2 + 0.4 + 0.6) / 3; diff(sc.Utilization.Mean, want) > 1e-12 || diff(sc.Utilization.P95, 0.9) > 1e-12 || sc.Utilization.Max != 1 {
		t.Errorf("utilization %+v, want mean %v, p95 0.9, max 1", sc.Utilization, want)
	}
	ex := sc.Exhaustion
	if ex.Events != 3 || ex.Total != ms(1500) || ex.Longest != ms(300) || diff(ex.Share, 1.5/30) > 1e-12 {
		t.Errorf("exhaustion %+v; want 3 events, 1.5s, longest 300ms, share 1.5s/(3 replicas × 10s)", ex)
	}
	if sc.Leaks != 3 || len(sc.LeakDetails) != 3 {
		t.Errorf("leaks %d, details %d; want 3 and 3", sc.Leaks, len(sc.LeakDetails))
	}
	// Without histograms: conservative.
	g := sc.Generator.TimerLateness
	if g.Count != 300 || g.P95 != ms(3)+3 || g.Max != ms(15) || g.Min != ms(1) || g.Mean != ms(2) || g.Histogram != "" {
		t.Errorf("timer lateness %+v; want count 300, p95 the largest, max 15ms", g)
	}
	if sc.Generator.MachineCPU != 3 || sc.Generator.ServiceCPU != 0.3 {
		t.Errorf("generator %+v, want the busiest machine's (segment 3)", sc.Generator)
	}
	if run.Seed != 42 || run.Status != results.StatusCompleted || run.StatusReason != "" {
		t.Errorf("seed %d status %s %q", run.Seed, run.Status, run.StatusReason)
	}
	// Series: same start, so each step sums the three segments.
	if len(sc.Series) != 10 || sc.SeriesStep != time.Second {
		t.Fatalf("series of %d points step %v, want 10 of 1s", len(sc.Series), sc.SeriesStep)
	}
	p := sc.Series[4]
	if p.T != 5*time.Second || p.Ops != 30 || p.Users != 15 || p.InUse != 6 || p.Total != 9 || p.AcquireP95 != ms(15) {
		t.Errorf("point 5: %+v; want t 5s, 30 ops, 15 users, 6 in use, 9 total, acquire p95 15ms", p)
	}
}

func TestMergedRecordIsAValidReport(t *testing.T) {
	in, _, _ := threeSegments()
	run, err := merge.Runs(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(run); err != nil {
		t.Fatal(err)
	}
	back, err := results.Decode(&buf)
	if err != nil {
		t.Fatalf("the merged record does not read back: %v", err)
	}
	if back.Merged == nil || back.Scenarios[0].Acquire != run.Scenarios[0].Acquire {
		t.Errorf("read back %+v", back.Merged)
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestSeriesAlignOnTheWallClock(t *testing.T) {
	a := segment(segmentSpec{index: 1, count: 2, start: t0, acquire: spread(100, ms(1), 0), op: spread(100, ms(1), 0)})
	b := segment(segmentSpec{index: 2, count: 2, start: t0.Add(ms(300)), acquire: spread(200, ms(1), 0), op: spread(200, ms(1), 0)})
	run, err := merge.Runs([]merge.Input{{File: "a.json", Run: a}, {File: "b.json", Run: b}})
	if err != nil {
		t.Fatal(err)
	}
	sc := run.Scenarios[0]
	if !sc.StartedAt.Equal(t0) {
		t.Errorf("started at %v, want the earliest, %v", sc.StartedAt, t0)
	}
	if sc.Elapsed != 10*time.Second {
		t.Errorf("elapsed %v, want 10s", sc.Elapsed)
	}
	// b's point ending at t0+1.3s (covering 0.3–1.3s) mostly overlaps the
	// step ending at 1s: it lands there; every op is kept.
	var ops int64
	for _, p := range sc.Series {
		ops += p.Ops
	}
	if ops != 300 {
		t.Errorf("series holds %d ops, want 300", ops)
	}
	if len(sc.Series) != 10 || sc.Series[0].T != time.Second || sc.Series[0].Ops != 10+20 || sc.Series[9].Ops != 30 {
		t.Errorf("series %+v; want 10 steps of 10+20 ops", sc.Series)
	}
	// 700 ms apart: b's point ending at 1.7s is nearest the step ending at 2s.
	b.Scenarios[0].StartedAt = t0.Add(ms(700))
	run, err = merge.Runs([]merge.Input{{File: "a.json", Run: a}, {File: "b.json", Run: b}})
	if err != nil {
		t.Fatal(err)
	}
	s := run.Scenarios[0].Series
	if len(s) != 11 || s[0].Ops != 10 || s[1].Ops != 30 || s[10].Ops != 20 || s[10].T != 11*time.Second {
		t.Errorf("series %+v; want 11 steps: 10, 30, ..., 20 ops", s)
	}
}

func TestSeriesStaysBounded(t *testing.T) {
	a := segment(segmentSpec{index: 1, count: 2, start: t0, acquire: spread(10, ms(1), 0), op: spread(10, ms(1), 0)})
	b := segment(segmentSpec{index: 2, count: 2, start: t0, acquire: spread(10, ms(1), 0), op: spread(10, ms(1), 0)})
	for _, r := range []*results.Run{a, b} {
		sc := &r.Scenarios[0]
		sc.Series = nil
		sc.Planned, sc.Elapsed = 600*time.Second, 600*time.Second
		r.FinishedAt = t0.Add(801 * time.Second)
		for i := 1; i <= results.MaxSeriesPoints; i++ {
			sc.Series = append(sc.Series, results.Point{T: time.Duration(i) * time.Second, Ops: 1})
		}
	}
	b.Scenarios[0].StartedAt = t0.Add(200 * time.Second) // 800 wall-clock seconds in all
	run, err := merge.Runs([]merge.Input{{File: "a.json", Run: a}, {File: "b.json", Run: b}})
	if err != nil {
		t.Fatal(err)
	}
	sc := run.Scenarios[0]
	var ops int64
	for _, p := range sc.Series {
		ops += p.Ops
	}
	if len(sc.Series) > results.MaxSeriesPoints || sc.SeriesStep != 2*time.Second || ops != 1200 {
		t.Errorf("%d points of %v holding %d ops; want at most %d of 2s holding 1200", len(sc.Series), sc.SeriesStep, ops, results.MaxSeriesPoints)
	}
}

func TestStatusIsTheWorstSegments(t *testing.T) {
	in, _, _ := threeSegments()
	in[1].Run.Status, in[1].Run.StatusReason = results.StatusInterrupted, "interrupted by SIGTERM"
	in[2].Run.Status, in[2].Run.StatusReason = results.StatusAborted, "assertion p95 failed"
	in[2].Run.TeardownError = "DROP TABLE t: permission denied"
	in[1].Run.Preflight[1] = results.Check{Name: "capacity", Status: results.CheckWarn, Reason: "close to max_connections", Critical: true}
	in[2].Run.Scenarios[0].NotChecked = []results.NotChecked{{Check: results.CheckServerLeaks, Figures: []string{"leaks"}, Reason: "monitor lost"}}
	in[1].Run.Seed = 7
	run, err := merge.Runs(in)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != results.StatusAborted || run.StatusReason != "segment 3 (c.json): assertion p95 failed" {
		t.Errorf("status %s %q; want aborted, naming segment 3", run.Status, run.StatusReason)
	}
	if run.TeardownError != "segment 3 (c.json): DROP TABLE t: permission denied" {
		t.Errorf("teardown error %q", run.TeardownError)
	}
	if n := len(run.Preflight); n != 3 || run.Preflight[2].Status != results.CheckWarn || run.Preflight[2].Reason != "segment 2 (b.json): close to max_connections" {
		t.Errorf("preflight %+v; want segment 1's checks and segment 2's warning", run.Preflight)
	}
	nc := run.Scenarios[0].NotChecked
	if len(nc) != 1 || nc[0].Reason != "segment 3 (c.json): monitor lost" {
		t.Errorf("not checked %+v", nc)
	}
	if run.Seed != 0 {
		t.Errorf("seed %d; want none when the segments drew different seeds", run.Seed)
	}
}

func TestLatencyWithoutHistogramIsCombinedConservatively(t *testing.T) {
	in, _, _ := threeSegments()
	in[1].Run.Scenarios[0].Acquire.Histogram = "" // a report of an older planrun
	run, err := merge.Runs(in)
	if err != nil {
		t.Fatal(err)
	}
	got := run.Scenarios[0].Acquire
	var p99 time.Duration
	for _, s := range in {
		p99 = max(p99, s.Run.Scenarios[0].Acquire.P99)
	}
	if got.Histogram != "" || got.Count != 300 || got.P99 != p99 {
		t.Errorf("acquire %+v; want no histogram, count 300, p99 the largest (%v)", got, p99)
	}
}

func TestRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		change func([]merge.Input) []merge.Input
		want   string
	}{
		"not a segment": {func(in []merge.Input) []merge.Input { in[1].Run.Segment = nil; return in },
			"b.json is not a segment report (run with --segment i/N)"},
		"different plans": {func(in []merge.Input) []merge.Input {
			in[2].Run.Plan.SHA256 = strings.Repeat("cd", 32)
			return in
		}, "a.json and c.json ran different plans (demo.yaml sha256 abababababab…, demo.yaml sha256 cdcdcdcdcdcd…)"},
		"different schema": {func(in []merge.Input) []merge.Input { in[1].Run.SchemaVersion = 1; return in },
			"a.json and b.json have different report schema versions (2 and 1)"},
		"different planrun": {func(in []merge.Input) []merge.Input { in[1].Run.PlanrunVersion = "v1.3.0"; return in },
			"a.json was written by planrun v1.2.3, b.json by planrun v1.3.0"},
		"different counts": {func(in []merge.Input) []merge.Input { in[1].Run.Segment.Count = 4; return in },
			"a.json is segment 1/3 but b.json is segment 2/4"},
		"missing": {func(in []merge.Input) []merge.Input { return []merge.Input{in[0], in[2]} },
			"segment 2 of 3 is missing"},
		"two missing": {func(in []merge.Input) []merge.Input { return in[:1] },
			"segments 2 and 3 of 3 are missing"},
		"duplicate": {func(in []merge.Input) []merge.Input {
			in[2].Run.Segment.Index = 1
			return in
		}, "segment 1 given twice: a.json and c.json"},
		"out of range": {func(in []merge.Input) []merge.Input { in[2].Run.Segment.Index = 4; return in },
			"c.json is not a report planrun wrote: values out of range: segment.index is 4: segment 4 of 3 does not exist (1 to 3)"},
		"different scenarios": {func(in []merge.Input) []merge.Input {
			in[1].Run.Scenarios[0].Name = "spike"
			return in
		}, "a.json ran scenarios [steady] but b.json ran [spike]"},
		"different time scale": {func(in []merge.Input) []merge.Input { in[1].Run.TimeScale = 0.1; return in },
			"a.json ran with --time-scale 1 but b.json with 0.1"},
		"corrupt histogram": {func(in []merge.Input) []merge.Input {
			in[1].Run.Scenarios[0].Hold.Histogram = "bm90IGEgaGlzdG9ncmFt"
			return in
		}, "scenario steady: hold: decode histogram: "},
		"no count": {func(in []merge.Input) []merge.Input {
			for _, s := range in {
				s.Run.Segment.Count = -1
			}
			return in
		}, "a.json is not a report planrun wrote: values out of range: segment.count is -1: a plan is split into 1 to 1000 segments"},
		"none": {func([]merge.Input) []merge.Input { return nil }, "no segment reports given"},
	} {
		t.Run(name, func(t *testing.T) {
			in, _, _ := threeSegments()
			_, err := merge.Runs(tc.change(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

// TestMergedRecordReadsBack: what merge writes, report reads, at the
// edges the forged corpus explores: counts that add up to just below
// 2^63, series counts that saturate, segments that started 1500 h apart
// (the series widened to at most MaxSeriesPoints).
func TestMergedRecordReadsBack(t *testing.T) {
	for name, change := range map[string]func(i int, r *results.Run){
		"ops just below 2^63": func(_ int, r *results.Run) {
			r.Scenarios[0].Ops = math.MaxInt64 / 3
			r.Scenarios[0].Operations[0].Ops = math.MaxInt64 / 3
		},
		"series ops saturate": func(_ int, r *results.Run) { r.Scenarios[0].Series[3].Ops = math.MaxInt64 },
		"1500 h apart": func(i int, r *results.Run) {
			d := time.Duration(i) * 750 * time.Hour
			r.StartedAt, r.FinishedAt = r.StartedAt.Add(d), r.FinishedAt.Add(d)
			r.Scenarios[0].StartedAt = r.Scenarios[0].StartedAt.Add(d)
		},
	} {
		t.Run(name, func(t *testing.T) {
			in, _, _ := threeSegments()
			for i := range in {
				change(i, in[i].Run)
			}
			run, err := merge.Runs(in)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := json.NewEncoder(&buf).Encode(run); err != nil {
				t.Fatal(err)
			}
			back, err := results.Decode(&buf)
			if err != nil {
				t.Fatalf("the merged record does not read back: %v", err)
			}
			if n := len(back.Scenarios[0].Series); n == 0 || n > results.MaxSeriesPoints {
				t.Errorf("%d series points", n)
			}
		})
	}
}

// TestSumsNeverWrap: a sum past 2^63−1 is refused, naming the field and
// the segment that took it over; it never wraps to a negative count.
func TestSumsNeverWrap(t *testing.T) {
	in, _, _ := threeSegments()
	for _, s := range in {
		s.Run.Scenarios[0].Ops = math.MaxInt64/3 + 1
	}
	_, err := merge.Runs(in)
	if err == nil || !strings.Contains(err.Error(), "scenario steady: ops: c.json's 3074457345618258603 added to 6148914691236517206 goes past 9223372036854775807") {
		t.Fatalf("error %v, want the ops sum refused", err)
	}
}

// The merged error band is the widest segment's: timer and network
// lateness combine conservatively, and the planned think time and the
// --time-scale note carry over, so the merged verdict judges its
// measurement as strictly as each segment's.
func TestMeasurementCarriesOver(t *testing.T) {
	in, _, _ := threeSegments()
	for k, s := range in {
		sc := &s.Run.Scenarios[0]
		sc.Think, sc.TimeScaleNote, sc.HTTPOnly = 40*time.Millisecond, "shortened", true
		sc.Generator.TimerLateness = results.Latency{Count: 100, P99: ms(2 + k), Max: ms(50)}
		sc.Generator.ProxyLateness = results.Latency{Count: 100, P99: ms(10 * (3 - k)), Max: ms(50)}
	}
	run, err := merge.Runs(in)
	if err != nil {
		t.Fatal(err)
	}
	sc := run.Scenarios[0]
	if g := sc.Generator; g.TimerLateness.P99 != ms(4) || g.ProxyLateness.P99 != ms(30) || g.Band() != ms(64) {
		t.Errorf("generator %+v, band %v: want timer p99 4ms, proxy p99 30ms, band 64ms", g, g.Band())
	}
	if sc.Think != 40*time.Millisecond || sc.TimeScaleNote != "shortened" || !sc.HTTPOnly {
		t.Errorf("think %v, note %q, http_only %v: not carried over", sc.Think, sc.TimeScaleNote, sc.HTTPOnly)
	}
}
