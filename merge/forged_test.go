package merge_test

// The forged-report corpus of issue 22 ("reports from elsewhere are
// untrusted input"): one directory per case in testdata/forged, each
// holding the reports one command reads (segment reports for merge, a
// baseline set for compare). TestForgedCorpus runs the built planrun on
// each, as a user would, and asserts the outcome: a refusal with exit 2
// and a message naming the file and the field, or for the cases in
// acceptedByDesign, a verdict; never a panic, a crash, a hang or more
// than forgedMaxRSS of memory (the peak RSS of the process, from
// rusage). TestForgedCorpusIsUpToDate rebuilds the files (go test
// ./merge/ -run TestForgedCorpusIsUpToDate -update writes them).
//
// Figures (update them with the corpus): 44 cases tried, 42 rejected
// cleanly (exit 2, naming file and field), 2 accepted by design; no
// crash, panic, hang or unbounded memory (peak RSS at most 25 MiB; before
// the fix, up to 3 GB and a fatal error under a 5 GB cap).

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/forged")

const forgedDir = "testdata/forged"

// forgedMaxRSS bounds the peak RSS of planrun on any forged input. Before
// the fix the same inputs took 2–3.6 GB (issue 22).
const forgedMaxRSS = 200 << 20

// forgedTimeout is far above what any case takes (well under a second);
// before the fix, segment counts of 2^31 and 10^8 hung.
const forgedTimeout = 60 * time.Second

// forgedCase is one case: its files, the command that reads them, and
// what must come of it.
type forgedCase struct {
	// files builds the reports, by file name.
	files func(t testing.TB) map[string][]byte
	// command is "merge" (the default) or "compare".
	command string
	// want is a part of the refusal (exit 2); empty for a case accepted
	// by design.
	want string
	// why says why a case is accepted by design.
	why string
}

var forgedCases = map[string]forgedCase{
	// Segment counts and indexes.
	"segment-count-2p62": {files: segmentCount(1 << 62),
		want: "a.json is not a report planrun wrote: values out of range: segment.count is 4611686018427387904: a plan is split into 1 to 1000 segments"},
	"segment-count-2p40": {files: segmentCount(1 << 40), want: "a.json is not a report planrun wrote: values out of range: segment.count is 1099511627776"},
	"segment-count-2p31": {files: segmentCount(1 << 31), want: "a.json is not a report planrun wrote: values out of range: segment.count is 2147483648"},
	"segment-count-1e8":  {files: segmentCount(1e8), want: "a.json is not a report planrun wrote: values out of range: segment.count is 100000000"},
	"segment-count-1001": {files: segmentCount(1001), want: "a.json is not a report planrun wrote: values out of range: segment.count is 1001"},
	"segment-count-0":    {files: segmentCount(0), want: "a.json is not a report planrun wrote: values out of range: segment.count is 0"},
	"segment-index-0": {files: edit(2, func(i int, r *results.Run) { r.Segment.Index = []int{0, 2}[i] }),
		want: "a.json is not a report planrun wrote: values out of range: segment.index is 0: segment 0 of 2 does not exist"},
	"segment-index-minint": {files: edit(2, func(i int, r *results.Run) { r.Segment.Index = []int{1, math.MinInt64}[i] }),
		want: "b.json is not a report planrun wrote: values out of range: segment.index is -9223372036854775808"},
	"segment-replica-2p40": {files: edit(2, func(i int, r *results.Run) { r.Segment.Replicas = []int{i + 1, 1 << 40} }),
		want: "a.json is not a report planrun wrote: values out of range: segment.replicas[1] is 1099511627776: replicas are numbered 1 to 10000"},
	"merged-segments-2p62": {files: edit(2, func(i int, r *results.Run) { r.Merged = &results.Merged{Segments: 1 << 62} }),
		want: "a.json is not a report planrun wrote: values out of range: merged.segments is 4611686018427387904"},

	// Histogram geometry and the memory budget.
	"histogram-maxint64-5-digits-20-files": {files: wideHistograms(20),
		want: "a.json is not a report planrun wrote: scenarios[0] (steady).acquire.histogram: it has 5 significant figures; planrun writes 1 to 3"},
	"histogram-maxint64-5-digits-40-files": {files: wideHistograms(40),
		want: "a00.json is not a report planrun wrote: scenarios[0] (steady).acquire.histogram: it has 5 significant figures"},
	"histogram-4-digits": {files: histogramGeometry(1000, int64(time.Hour), 4),
		want: "a.json is not a report planrun wrote: scenarios[0] (steady).acquire.histogram: it has 4 significant figures"},
	"histogram-highest-2h": {files: histogramGeometry(1000, int64(2*time.Hour), 3),
		want: "a.json is not a report planrun wrote: scenarios[0] (steady).acquire.histogram: its highest trackable value is 7200000000000; planrun writes at most 3600000000000"},
	"histogram-lowest-2000": {files: histogramGeometry(2000, int64(time.Hour), 3),
		want: "a.json is not a report planrun wrote: scenarios[0] (steady).acquire.histogram: its lowest trackable value is 2000"},
	"histogram-budget-one-file": {files: manyHistograms(1, 2, 100),
		want: "a.json is not a report planrun wrote: scenarios[0] (steady).operations[80] (op80).op.histogram: the report's latency histograms would take more than 64 MiB decoded"},
	"histogram-budget-one-command": {files: manyHistograms(5, 5, 70),
		want: "e.json: its latency histograms would take 55.7 MiB decoded, and those of the reports read before it 222.8 MiB: more than the 256 MiB one command decodes"},
	"compare-8-baselines-maxint64-5-digits": {files: wideBaselines(9), command: "compare",
		want: "a.json is not a report planrun wrote: scenarios[0] (steady).acquire.histogram: it has 5 significant figures"},
	"compare-8-baselines-spread-5-digits": {files: spreadBaselines(9), command: "compare",
		want: "a.json is not a report planrun wrote: scenarios[0] (steady).acquire.histogram: it has 5 significant figures"},
	"compare-budget-one-command": {files: manyHistograms(5, 0, 70), command: "compare",
		want: "e.json: its latency histograms would take 55.7 MiB decoded, and those of the reports read before it 222.8 MiB: more than the 256 MiB one command decodes"},

	// Series steps and timestamps.
	"series-step-1ns": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].SeriesStep = 1 }),
		want: "a.json is not a report planrun wrote: values out of range: scenarios[0] (steady).series_step is 1ns: a series step is at least 1s"},
	"series-point-2p62": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].Series[9].T = 1 << 62 }),
		want: "a.json is not a report planrun wrote: values out of range: scenarios[0] (steady).series[9].t is 4611686018427387904ns: a point lies within its scenario"},
	"series-point-after-the-run": {files: edit(2, func(i int, r *results.Run) { r.Scenarios[0].Series[9].T = time.Duration(i+1) * time.Hour }),
		want: "a.json is not a report planrun wrote: values out of range: scenarios[0] (steady).series[9].t is 3600000000000ns: a point lies within its scenario (0 to elapsed + series_step = 12000000000ns)"},
	"series-step-2p62": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].SeriesStep = 1 << 62 }),
		want: "a.json is not a report planrun wrote: values out of range: scenarios[0] (steady).series_step is 4611686018427387904ns: no run lasts longer than 2000h0m0s"},
	"series-601-points": {files: edit(2, func(_ int, r *results.Run) {
		sc := &r.Scenarios[0]
		sc.Series = nil
		for i := range 601 {
			sc.Series = append(sc.Series, results.Point{T: time.Duration(i+1) * time.Second})
		}
	}), want: "a.json is not a report planrun wrote: scenarios[0].series has more than 600 points"},
	"starts-1500h-apart": {files: startsApart(1500 * time.Hour),
		why: "segments of one run may start far apart (no --start-at): within MaxElapsed (2000 h) they merge, the series widened to at most 600 points"},
	"starts-year-2-and-9999": {files: edit(2, func(i int, r *results.Run) {
		at := []time.Time{time.Date(2, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}[i]
		r.StartedAt, r.FinishedAt, r.Scenarios[0].StartedAt = at, at.Add(12*time.Second), at.Add(time.Second)
	}), want: "merge: a.json started at 0002-01-01T00:00:00Z and b.json at 9999-01-01T00:00:00Z, more than 2000h0m0s apart"},
	"starts-3000h-apart": {files: startsApart(3000 * time.Hour),
		want: "merge: a.json started at 2026-03-01T11:59:59Z and b.json at 2026-07-04T11:59:59Z, more than 2000h0m0s apart: they are not segments of one run"},

	// Sums.
	"sums-ops-wrap": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].Ops = math.MaxInt64 - 5 }),
		want: "merge: scenario steady: ops: b.json's 9223372036854775802 added to 9223372036854775802 goes past 9223372036854775807"},
	"sums-operation-ops-wrap": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].Operations[0].Ops = math.MaxInt64 - 5 }),
		want: "merge: scenario steady: operation read: ops: b.json's 9223372036854775802 added to 9223372036854775802 goes past 9223372036854775807"},
	"sums-errors-by-wrap": {files: edit(2, func(_ int, r *results.Run) {
		r.Scenarios[0].ErrorsBy[results.ErrAcquireTimeout] = math.MaxInt64
	}), want: "merge: scenario steady: errors_by.acquire_timeout: b.json's 9223372036854775807 added to 9223372036854775807 goes past"},
	"sums-exhaustion-total-wrap": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].Exhaustion.Total = math.MaxInt64/2 + 1 }),
		want: "merge: scenario steady: exhaustion.total: b.json's 4611686018427387904 added to 4611686018427387904 goes past"},
	"sums-max-users-wrap": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].MaxUsers = math.MaxInt64 }),
		want: "merge: scenario steady: max_users: b.json's 9223372036854775807 added to 9223372036854775807 goes past"},
	"sums-replica-acquires-wrap": {files: edit(2, func(_ int, r *results.Run) {
		r.Scenarios[0].Replicas = []results.Replica{{Index: 1, Acquires: math.MaxInt64}, {Index: 2, Acquires: math.MaxInt64}}
	}), want: "merge: scenario steady: replicas.acquires: a.json's 9223372036854775807 added to 9223372036854775807 goes past"},
	"sums-rate-inf": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].Rate = math.MaxFloat64 }),
		want: "merge: scenario steady: rate: b.json's 1.7976931348623157e+308 added to 1.7976931348623157e+308 gives +Inf"},
	"sums-series-ops-saturate": {files: edit(2, func(_ int, r *results.Run) { r.Scenarios[0].Series[3].Ops = math.MaxInt64 }),
		why: "a series step's counts (a chart's shape, read by no assertion) saturate at 2^63−1 instead of wrapping; the merged record reads back"},

	// How many scenarios, operations, points, faults and other items.
	"scenarios-1001": {files: rawDoc(`"scenarios": [` + repeat(`{"name": "s"}`, 1001) + `]`),
		want: "a.json is not a report planrun wrote: scenarios has more than 1,000 scenarios"},
	"scenarios-200000-empty": {files: rawDoc(`"scenarios": [` + repeat(`{}`, 200_000) + `]`),
		want: "a.json is not a report planrun wrote: scenarios has more than 1,000 scenarios"},
	"scenarios-folded-key": {files: rawDoc(`"ſCENARIOS": [` + repeat(`{}`, 1001) + `]`),
		want: "a.json is not a report planrun wrote: ſCENARIOS has more than 1,000 scenarios"},
	"operations-100001": {files: rawDoc(`"scenarios": [{"name": "s", "operations": [` + repeat(`{}`, 100_001) + `]}]`),
		want: "a.json is not a report planrun wrote: scenarios[0].operations has more than 100,000 operations"},
	"errors-by-100001-keys": {files: rawDoc(`"scenarios": [{"name": "s", "errors_by": {` + strings.TrimSuffix(strings.Repeat(`"k": 1,`, 100_001), ",") + `}}]`),
		want: "a.json is not a report planrun wrote: scenarios[0].errors_by has more than 100,000 keys"},
	"faults-1001": {files: rawDoc(`"scenarios": [{"name": "s", "faults": [` + repeat(`{}`, 1001) + `]}]`),
		want: "a.json is not a report planrun wrote: scenarios[0].faults has more than 1,000 faults"},
	"leak-details-100001": {files: rawDoc(`"scenarios": [{"name": "s", "leak_details": [` + repeat(`{}`, 100_001) + `]}]`),
		want: "a.json is not a report planrun wrote: scenarios[0].leak_details has more than 100,000 items"},
	"nesting-65": {files: rawDoc(`"x": ` + strings.Repeat("[", 65) + strings.Repeat("]", 65)),
		want: "a.json is not a report planrun wrote: x[0][0][0]"},
}

// acceptedByDesign are the cases whose want is empty.
func acceptedByDesign() []string {
	var names []string
	for name, c := range forgedCases {
		if c.want == "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// forgedPlan is the plan every forged segment report names: the corpus
// runs `planrun merge --plan` with it, so that a merge that is not refused
// goes on to a verdict.
const forgedPlan = `version: 1
name: demo
mixes:
  default:
    - {name: read, sql: SELECT 1}
scenarios:
  - {name: steady, users: 5, duration: 10s}
`

// planSHA is the sha256 of forgedPlan, as planrun computes it.
var planSHA = sync.OnceValue(func() string {
	dir, err := os.MkdirTemp("", "forged-plan-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(forgedPlan), 0o644); err != nil {
		panic(err)
	}
	p, err := schema.LoadPartial(path)
	if p == nil {
		panic(err)
	}
	return p.SHA256
})

// segments are n valid segment reports of the plan (count n).
func segments(n int) []*results.Run {
	var runs []*results.Run
	for i := range n {
		r := segment(segmentSpec{index: i + 1, count: n, start: t0, acquire: spread(50, ms(1), 10*time.Microsecond),
			op: spread(50, ms(5), 100*time.Microsecond), errors: 1, replicas: []int{i + 1}})
		r.Plan = results.PlanInfo{Name: "demo", File: "plan.yaml", SHA256: planSHA()}
		r.Scenarios[0].Utilization = results.Utilization{Mean: 0.2, P95: 0.3, Max: 0.4} // a fraction for any index
		runs = append(runs, r)
	}
	return runs
}

// fileNames names n files a.json, b.json, ... or a00.json, a01.json, ...
// beyond 26.
func fileName(i, n int) string {
	if n <= 26 {
		return string(rune('a'+i)) + ".json"
	}
	return fmt.Sprintf("a%02d.json", i)
}

func encodeAll(t testing.TB, runs []*results.Run) map[string][]byte {
	files := map[string][]byte{}
	for i, r := range runs {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		files[fileName(i, len(runs))] = data
	}
	return files
}

// edit builds n segments changed by f.
func edit(n int, f func(i int, r *results.Run)) func(testing.TB) map[string][]byte {
	return func(t testing.TB) map[string][]byte {
		runs := segments(n)
		for i, r := range runs {
			f(i, r)
		}
		return encodeAll(t, runs)
	}
}

func segmentCount(count int) func(testing.TB) map[string][]byte {
	return edit(2, func(_ int, r *results.Run) { r.Segment.Count = count })
}

// forgedLatency is one 2 ms value in a histogram of the given geometry.
func forgedLatency(lowest, highest int64, sigfigs int) results.Latency {
	return forgedValue(lowest, highest, sigfigs, ms(2))
}

// forgedValue is one value d in a histogram of the given geometry.
func forgedValue(lowest, highest int64, sigfigs int, d time.Duration) results.Latency {
	h := hdrhistogram.New(lowest, highest, sigfigs)
	if err := h.RecordValue(int64(d)); err != nil {
		panic(err)
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	return results.Latency{Count: 1, Min: d, Mean: d, P50: d, P90: d, P95: d, P99: d, Max: d, Histogram: string(b)}
}

// wideLatency is a value of 2 ms + i µs in a histogram claiming 1 to
// MaxInt64 at 5 significant figures: each file's differs, as measured
// values would.
func wideLatency(i int) results.Latency {
	return forgedValue(1, math.MaxInt64, 5, ms(2)+time.Duration(i)*time.Microsecond)
}

// setLatencies sets every latency with a histogram of r's first scenario
// and its operations to l.
func setLatencies(r *results.Run, l results.Latency) {
	sc := &r.Scenarios[0]
	sc.Acquire, sc.Query, sc.Op, sc.Hold, sc.Connect, sc.GeneratorLag = l, l, l, l, l, l
	for i := range sc.Operations {
		o := &sc.Operations[i]
		o.Acquire, o.Query, o.Op = l, l, l
	}
}

// wideHistograms: n segments whose histograms claim 1..MaxInt64 at 5
// significant figures (60 bytes encoded, 49 MB decoded each).
func wideHistograms(n int) func(testing.TB) map[string][]byte {
	return edit(n, func(i int, r *results.Run) { setLatencies(r, wideLatency(i)) })
}

func histogramGeometry(lowest, highest int64, sigfigs int) func(testing.TB) map[string][]byte {
	return edit(2, func(_ int, r *results.Run) { setLatencies(r, forgedLatency(lowest, highest, sigfigs)) })
}

// wideBaselines: n whole-run reports (the last the new one) with wide
// histograms, for compare.
func wideBaselines(n int) func(testing.TB) map[string][]byte {
	return edit(n, func(i int, r *results.Run) {
		r.Segment = nil
		setLatencies(r, wideLatency(i))
	})
}

// spreadLatency is a histogram claiming 1 to MaxInt64 at 5 significant
// figures with about 12,000 values spread so that one falls in every 4 KiB
// page of its 49 MB counts array: decoding it makes all of it resident.
func spreadLatency(i int) results.Latency {
	h := hdrhistogram.New(1, math.MaxInt64, 5)
	for v := int64(1 + i); v < math.MaxInt64/4; v += max(512, v/256) {
		if err := h.RecordValue(v); err != nil {
			panic(err)
		}
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	l := hdr.Summarize(h)
	l.Histogram = string(b)
	return l
}

// spreadBaselines: n whole-run reports (the last the new one) with spread
// wide histograms, for compare.
func spreadBaselines(n int) func(testing.TB) map[string][]byte {
	return edit(n, func(i int, r *results.Run) {
		r.Segment = nil
		setLatencies(r, spreadLatency(i))
	})
}

// manyHistograms: n reports of segment count count (0: whole runs), each
// with ops operations whose histograms have the widest geometry planrun
// accepts (1 ns to one hour at 3 figures, 264 KiB decoded).
func manyHistograms(n, count, ops int) func(testing.TB) map[string][]byte {
	l := forgedLatency(1, int64(time.Hour), 3)
	return edit(n, func(_ int, r *results.Run) {
		if count == 0 {
			r.Segment = nil
		}
		sc := &r.Scenarios[0]
		op := sc.Operations[0]
		sc.Operations = nil
		for k := range ops {
			o := op
			o.Name = fmt.Sprintf("op%d", k)
			o.Share = 1 / float64(ops)
			sc.Operations = append(sc.Operations, o)
		}
		setLatencies(r, l)
	})
}

// startsApart: two segments, the second started d after the first.
func startsApart(d time.Duration) func(testing.TB) map[string][]byte {
	return edit(2, func(i int, r *results.Run) {
		if i == 1 {
			r.StartedAt, r.FinishedAt = r.StartedAt.Add(d), r.FinishedAt.Add(d)
			r.Scenarios[0].StartedAt = r.Scenarios[0].StartedAt.Add(d)
			r.Segment.StartAt = r.Segment.StartAt.Add(d)
		}
	})
}

// rawDoc is one JSON report of the current schema version holding fields.
func rawDoc(fields string) func(testing.TB) map[string][]byte {
	return func(testing.TB) map[string][]byte {
		return map[string][]byte{"a.json": []byte(fmt.Sprintf(`{"schema_version": %d, "segment": {"index": 1, "count": 1}, %s}`, results.SchemaVersion, fields))}
	}
}

func repeat(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

// TestForgedCorpusIsUpToDate: the files in testdata/forged are what the
// cases build (-update writes them). It builds them on one goroutine, so
// the race detector has nothing to find and would make it twenty times
// slower: make test runs it without -race.
func TestForgedCorpusIsUpToDate(t *testing.T) {
	if raceEnabled {
		t.Skip("builds 49 MB histograms on one goroutine: make test runs it without -race")
	}
	if *update {
		if err := os.RemoveAll(forgedDir); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range forgedCases {
		dir := filepath.Join(forgedDir, name)
		for file, data := range c.files(t) {
			path := filepath.Join(dir, file)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s is not what case %s builds (run go test ./merge/ -run TestForgedCorpusIsUpToDate -update)", path, name)
			}
		}
	}
	if *update {
		if err := os.WriteFile(filepath.Join(forgedDir, "plan.yaml"), []byte(forgedPlan), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// binaryBuilt is set once planrunBinary made its directory.
var binaryBuilt bool

// planrunBinary builds cmd/planrun once for the tests that run it.
var planrunBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "planrun-merge-test-")
	if err != nil {
		return "", err
	}
	binaryBuilt = true
	bin := filepath.Join(dir, "planrun")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/planrun/planrun/cmd/planrun").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// TestMain removes the planrun built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaryBuilt {
		if bin, err := planrunBinary(); err == nil {
			os.RemoveAll(filepath.Dir(bin))
		}
	}
	os.Exit(code)
}

// outcome is what one planrun process did.
type outcome struct {
	code   int
	stderr string
	// hwm is the largest VmHWM (peak RSS) read from /proc every 2 ms while
	// the process ran, in bytes: its own peak, give or take its last
	// milliseconds. maxRSS is its peak RSS from rusage, shown only: Linux
	// counts in it the RSS this test process had when it forked.
	maxRSS, hwm int64
	wall        time.Duration
	timedOut    bool
	signalled   bool
	signal      string
}

// peakOf polls /proc/pid/status for VmHWM until done is closed, and
// returns the largest value read, in bytes.
func peakOf(pid int, done <-chan struct{}) int64 {
	var peak int64
	path := fmt.Sprintf("/proc/%d/status", pid)
	for {
		if data, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					var kb int64
					if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err == nil {
						peak = max(peak, kb*1024)
					}
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// runPlanrun runs the built planrun with args in dir and measures its peak
// RSS.
func runPlanrun(t *testing.T, dir string, args ...string) outcome {
	t.Helper()
	bin, err := planrunBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GITHUB_STEP_SUMMARY=", "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(forgedTimeout, func() { _ = cmd.Process.Kill() })
	done, hwm := make(chan struct{}), make(chan int64, 1)
	go func() { hwm <- peakOf(cmd.Process.Pid, done) }()
	_ = cmd.Wait()
	close(done)
	timedOut := !timer.Stop()
	o := outcome{stderr: stderr.String(), wall: time.Since(start), timedOut: timedOut, code: cmd.ProcessState.ExitCode(), hwm: <-hwm}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		o.signalled, o.signal = true, ws.Signal().String()
	}
	return o
}

// TestForgedCorpus runs planrun merge (or compare) on every forged case.
func TestForgedCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs planrun")
	}
	names := make([]string, 0, len(forgedCases))
	for name := range forgedCases {
		names = append(names, name)
	}
	sort.Strings(names)
	rejected, accepted := 0, 0
	var peak int64
	for _, name := range names {
		c := forgedCases[name]
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(forgedDir, name)
			files, err := filepath.Glob(filepath.Join(dir, "*.json"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no reports in %s (run go test ./merge/ -run TestForgedCorpusIsUpToDate -update)", dir)
			}
			var rel []string
			for _, f := range files {
				rel = append(rel, filepath.Base(f))
			}
			slices.Sort(rel)
			args := append([]string{"merge", "--plan", "../plan.yaml", "--format", "json"}, rel...)
			if c.command == "compare" {
				args = append([]string{"compare"}, rel...)
			}
			o := runPlanrun(t, dir, args...)
			peak = max(peak, o.hwm)
			t.Logf("exit %d, peak RSS %.1f MiB (rusage bound %.1f MiB), %s", o.code, float64(o.hwm)/(1<<20), float64(o.maxRSS)/(1<<20), o.wall.Round(time.Millisecond))
			switch {
			case o.timedOut:
				t.Fatalf("still running after %s (a hang)", forgedTimeout)
			case o.signalled:
				t.Fatalf("killed by %s:\n%s", o.signal, o.stderr)
			}
			for _, bad := range []string{"panic", "goroutine ", "fatal error", "runtime error"} {
				if strings.Contains(o.stderr, bad) {
					t.Fatalf("stderr shows %q (a crash):\n%s", bad, o.stderr)
				}
			}
			if o.hwm > forgedMaxRSS {
				t.Errorf("peak RSS %.1f MiB (rusage %.1f MiB), more than %d MiB", float64(o.hwm)/(1<<20), float64(o.maxRSS)/(1<<20), forgedMaxRSS>>20)
			}
			if c.want == "" {
				if o.code == 2 {
					t.Fatalf("accepted by design (%s), but refused:\n%s", c.why, o.stderr)
				}
				accepted++
				return
			}
			if o.code != 2 || !strings.Contains(o.stderr, c.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and a message containing %q", o.code, o.stderr, c.want)
			}
			rejected++
		})
	}
	t.Logf("%d cases tried, %d rejected cleanly (exit 2, naming file and field), %d accepted by design; peak RSS %.1f MiB",
		len(names), rejected, accepted, float64(peak)/(1<<20))
}
