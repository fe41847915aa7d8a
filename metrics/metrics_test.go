package metrics_test

import (
	"go/build"
	"math"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/planrun/planrun/alerts"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/metrics"
	"github.com/planrun/planrun/metrics/metricstest"
	"github.com/planrun/planrun/results"
)

// histogram returns an HdrHistogram of values (seconds) in units of unit,
// of the engine's range and precision (3 significant figures).
func histogram(unit time.Duration, values ...float64) *hdrhistogram.Histogram {
	h := hdrhistogram.New(1, int64(time.Hour/unit), 3)
	for _, v := range values {
		if err := h.RecordValue(int64(v * float64(time.Second/unit))); err != nil {
			panic(err)
		}
	}
	return h
}

// fakeSnapshot is a snapshot of an open scenario of two operations over two
// replicas and two faults; the histograms it hands over are in hists.
func fakeSnapshot() *live.Snapshot {
	ns := time.Nanosecond
	sc := &results.Scenario{
		Name: "surge", Mix: "app", Model: results.ModelOpen, Elapsed: 3 * time.Second,
		Ops: 120, Errors: 7, Dropped: 5, Cancelled: 1,
		ErrorsBy: map[string]int64{results.ErrAcquireTimeout: 2, results.ErrDropped: 5},
		Operations: []results.Operation{
			{Name: "read", Ops: 100, Errors: 5},
			{Name: "write", Ops: 20, Errors: 2},
		},
		Service: &results.Service{
			ApplicationName: "svc", Capacity: 40, Samples: 30,
			InUse: results.ServiceLevel{Max: 30, Mean: 12.5, P95: 25},
			Last:  &results.ServiceSample{InUse: 10, Utilization: 0.25, OldestIdleInTransaction: 1500 * time.Millisecond, Headroom: 57},
		},
	}
	return &live.Snapshot{
		Run:      &results.Run{Target: results.Target{MaxConnections: 100}},
		Scenario: sc, Index: 2, Count: 2,
		Pools: []live.Pool{
			{Replica: 1, Open: 4, InUse: 3, Idle: 1, Waiting: 2, Capacity: 5},
			{Replica: 2, Open: 5, InUse: 5, Idle: 0, Waiting: 9, Capacity: 5},
		},
		Users: 8, MaxUsers: 20, TargetRate: 250,
		Faults: []live.Fault{
			{Index: 1, Kind: "stall", What: "stall for 2s", Active: true},
			{Index: 2, Kind: "reset", What: "reset every pool connection"},
		},
		Histograms: live.Histograms{
			Operations: []live.Operation{
				{Acquire: histogram(ns, 0.0001, 0.003, 0.2), Query: histogram(ns, 0.001), Op: histogram(ns, 0.002, 0.004)},
				{Acquire: histogram(ns), Query: histogram(ns), Op: histogram(ns, 70)}, // beyond the last bucket
			},
			Lateness: histogram(time.Microsecond, 0.0002, 0.0002, 0.05),
		},
	}
}

// serve starts a server on a free local port over c, closed at the test's end.
func serve(t *testing.T, c *metrics.Collector) *metrics.Server {
	t.Helper()
	srv, err := metrics.Listen("127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

// TestMetricsFromSnapshot: a fake snapshot comes out of /metrics as the
// documented series, parsed by the Prometheus text parser.
func TestMetricsFromSnapshot(t *testing.T) {
	c := metrics.NewCollector()
	c.Live(fakeSnapshot())
	fams, err := metricstest.Scrape(serve(t, c).URL())
	if err != nil {
		t.Fatal(err)
	}
	values := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"planrun_scenario_info", []string{"scenario", "surge", "mix", "app", "model", "open"}, 1},
		{"planrun_scenario_running", nil, 1},
		{"planrun_scenario_warmup", nil, 0},
		{"planrun_scenario_elapsed_seconds", nil, 3},
		{"planrun_ops_total", []string{"scenario", "surge"}, 120},
		{"planrun_errors_total", []string{"category", "acquire_timeout"}, 2},
		{"planrun_errors_total", []string{"category", "dropped"}, 5},
		{"planrun_errors_total", []string{"category", "query"}, 0},
		{"planrun_errors_total", []string{"category", "other"}, 0},
		{"planrun_dropped_total", nil, 5},
		{"planrun_cancelled_total", nil, 1},
		{"planrun_operation_ops_total", []string{"operation", "write"}, 20},
		{"planrun_operation_errors_total", []string{"operation", "read"}, 5},
		{"planrun_pool_open", []string{"replica", "1"}, 4},
		{"planrun_pool_in_use", []string{"replica", "2"}, 5},
		{"planrun_pool_idle", []string{"replica", "1"}, 1},
		{"planrun_pool_waiting", []string{"replica", "2"}, 9},
		{"planrun_pool_capacity", []string{"replica", "2"}, 5},
		{"planrun_users", nil, 8},
		{"planrun_target_rate", nil, 250},
		{"planrun_fault_active", []string{"index", "1", "kind", "stall"}, 1},
		{"planrun_fault_active", []string{"index", "2", "kind", "reset"}, 0},
		// The service's levels at its latest sample, not its summary so far.
		{"planrun_service_utilization", nil, 0.25},
		{"planrun_service_in_use", nil, 10},
		{"planrun_service_capacity", nil, 40},
		{"planrun_service_idle_in_transaction_max_seconds", nil, 1.5},
		{"planrun_server_headroom", nil, 57},
		{"planrun_server_max_connections", nil, 100},
	}
	for _, v := range values {
		got, ok := fams.Value(v.name, append([]string{"scenario", "surge"}, v.labels...)...)
		if !ok {
			t.Errorf("%s%v: missing", v.name, v.labels)
		} else if got != v.want {
			t.Errorf("%s%v = %v, want %v", v.name, v.labels, got, v.want)
		}
	}
	if got := fams["planrun_ops_total"].GetType().String(); got != "COUNTER" {
		t.Errorf("planrun_ops_total is a %s", got)
	}

	// Histograms: counts, sums and cumulative buckets in seconds.
	read := fams.Find("planrun_acquire_seconds", "scenario", "surge", "operation", "read").GetHistogram()
	// Within the histogram's precision: 3 significant figures.
	if read.GetSampleCount() != 3 || read.GetSampleSum() < 0.2031*0.999 || read.GetSampleSum() > 0.2031*1.001 {
		t.Errorf("acquire of read: count %d sum %v, want 3 and 0.2031", read.GetSampleCount(), read.GetSampleSum())
	}
	for _, b := range read.GetBucket() {
		want := uint64(0)
		for _, v := range []float64{0.0001, 0.003, 0.2} {
			if v <= b.GetUpperBound() {
				want++
			}
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("acquire of read: bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	write := fams.Find("planrun_op_seconds", "operation", "write").GetHistogram()
	for _, b := range write.GetBucket() {
		if inf := math.IsInf(b.GetUpperBound(), 1); b.GetCumulativeCount() != map[bool]uint64{true: 1}[inf] {
			t.Errorf("op of write: a 70 s operation belongs in +Inf only: %v", write)
			break
		}
	}
	if late := fams.Find("planrun_generator_lateness_seconds", "scenario", "surge").GetHistogram(); late.GetSampleCount() != 3 {
		t.Errorf("generator lateness: count %d, want 3", late.GetSampleCount())
	}

	// Every family the package names is served, and nothing else.
	var served []string
	for name, fam := range fams {
		if fam.GetType().String() == "HISTOGRAM" {
			served = append(served, name+"_bucket", name+"_count", name+"_sum")
			continue
		}
		served = append(served, name)
	}
	slices.Sort(served)
	if want := metrics.Names(); !slices.Equal(served, want) {
		t.Errorf("served %v\nNames() %v", served, want)
	}
	for _, n := range served {
		if !strings.HasPrefix(n, "planrun_") {
			t.Errorf("%s is not prefixed planrun_", n)
		}
	}
}

// TestMetricsScenariosKeepTheirLastSnapshot: a later snapshot replaces its
// scenario's; an ended scenario's figures stay beside the next one's.
func TestMetricsScenariosKeepTheirLastSnapshot(t *testing.T) {
	c := metrics.NewCollector()
	c.Live(fakeSnapshot())
	last := fakeSnapshot()
	last.Scenario.Ops, last.Final = 150, true
	c.Live(last)
	other := fakeSnapshot()
	other.Scenario.Name, other.Index, other.Scenario.Ops = "baseline", 1, 9
	c.Live(other)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "planrun_ops_total" {
			continue
		}
		got := map[string]float64{}
		for _, m := range f.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
		if len(got) != 2 || got["surge"] != 150 || got["baseline"] != 9 {
			t.Errorf("ops by scenario %v, want surge 150 and baseline 9", got)
		}
		return
	}
	t.Fatal("no planrun_ops_total")
}

func TestMetricsResolveAddr(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: ":9464", want: "127.0.0.1:9464"},
		{in: "0.0.0.0:9464", want: "0.0.0.0:9464"},
		{in: "localhost:0", want: "localhost:0"},
		{in: "[::1]:9464", want: "[::1]:9464"},
		{in: "9464", err: "not HOST:PORT"},
		{in: ":http", err: "port must be a number"},
		{in: ":70000", err: "port must be a number"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := metrics.ResolveAddr(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestMetricsPortTaken: a port in use is an error from Listen, before anything runs.
func TestMetricsPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if srv, err := metrics.Listen(ln.Addr().String(), metrics.NewCollector()); err == nil {
		srv.Close()
		t.Fatalf("listening on %s, already taken, succeeded", ln.Addr())
	} else if !strings.Contains(err.Error(), "cannot serve metrics on "+ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}

// TestMetricsOnlyServesMetrics: /metrics only.
func TestMetricsOnlyServesMetrics(t *testing.T) {
	srv := serve(t, metrics.NewCollector())
	if _, err := metricstest.Scrape("http://" + srv.Addr() + "/"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("GET / = %v, want 404", err)
	}
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Errorf("addr %s", srv.Addr())
	}
}

// TestMetricsKeepTheBucketsOfTheirSecond: the engine's histograms are only
// valid during the call; what a scrape serves was counted then.
func TestMetricsKeepTheBucketsOfTheirSecond(t *testing.T) {
	c := metrics.NewCollector()
	s := fakeSnapshot()
	c.Live(s)
	for range 5 { // the engine records on after the call
		if err := s.Histograms.Operations[0].Acquire.RecordValue(int64(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	fams, err := metricstest.Scrape(serve(t, c).URL())
	if err != nil {
		t.Fatal(err)
	}
	if n := fams.Find("planrun_acquire_seconds", "operation", "read").GetHistogram().GetSampleCount(); n != 3 {
		t.Errorf("acquire of read: count %d, want the 3 of the snapshot's second", n)
	}
}

// TestMetricsDoNotImportTheEngine: metrics is a view of the live stream
// (package live); it never imports the engine, directly or not.
func TestMetricsDoNotImportTheEngine(t *testing.T) {
	const module = "github.com/planrun/planrun/"
	seen := map[string]bool{}
	var walk func(path string, from []string)
	walk = func(path string, from []string) {
		if seen[path] || !strings.HasPrefix(path, module) {
			return
		}
		seen[path] = true
		if path == module+"engine" || strings.HasPrefix(path, module+"engine/") {
			t.Errorf("metrics imports %s (via %s)", path, strings.Join(from, " → "))
			return
		}
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			walk(imp, append(slices.Clone(from), path))
		}
	}
	walk(module+"metrics", nil)
	if !seen[module+"live"] || !seen[module+"results"] {
		t.Errorf("the walk missed live or results: %v", seen)
	}
}

// TestMetricsBuckets: the fixed buckets span 0.5 ms to over a minute.
func TestMetricsBuckets(t *testing.T) {
	b := metrics.Buckets
	if b[0] != 0.0005 || b[len(b)-1] < 60 {
		t.Errorf("buckets %v: want 0.5 ms up to at least a minute", b)
	}
}

// TestServiceSeries: the service's series are served only for a scenario
// that carries a service whose backends were found; its levels only once
// a sample was taken; their names are the ones `planrun alerts` writes
// rules on (alerts.SourceWatch).
func TestServiceSeries(t *testing.T) {
	levels := []string{alerts.MetricUtilization, alerts.MetricInUse, alerts.MetricIdleInTxMax, alerts.MetricHeadroom}
	limits := []string{alerts.MetricCapacity, alerts.MetricMaxConnections}
	notFound := fakeSnapshot()
	notFound.Scenario.Service.NotFound = `no backend with application_name "svc": set target.service.application_name`
	noSample := fakeSnapshot()
	noSample.Scenario.Service.Last = nil
	none := fakeSnapshot()
	none.Scenario.Service = nil
	for _, tc := range []struct {
		name   string
		snap   *live.Snapshot
		served []string
	}{
		{"sampled", fakeSnapshot(), append(slices.Clone(levels), limits...)},
		{"no sample yet", noSample, limits},
		{"not found", notFound, nil},
		{"no service", none, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := metrics.NewCollector()
			c.Live(tc.snap)
			fams, err := metricstest.Scrape(serve(t, c).URL())
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range append(slices.Clone(levels), limits...) {
				_, got := fams.Value(name, "scenario", "surge")
				if want := slices.Contains(tc.served, name); got != want {
					t.Errorf("%s served: %v, want %v", name, got, want)
				}
				if !slices.Contains(metrics.Names(), name) {
					t.Errorf("%s, which alerts reads, is not among metrics.Names()", name)
				}
			}
		})
	}
}
