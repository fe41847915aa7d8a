// Package metrics serves a run's live figures to Prometheus: a
// prometheus.Collector that is a sink of the run's live stream
// ([live.Sink]) and an HTTP server for /metrics (the CLI's --metrics-addr).
//
// The engine hands a snapshot per scenario once a second from its sampler
// goroutine; the collector keeps the latest one of each scenario, with its
// latency histograms counted into fixed buckets then, and a scrape builds
// constant metrics from them, so nothing here runs on the engine's hot
// path. Every name starts with planrun_; docs/metrics.md lists them.
package metrics

import (
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// kind is how a metric is exposed.
type kind int

const (
	gauge kind = iota
	counter
	histogram
)

// Label names.
const (
	lScenario  = "scenario"
	lOperation = "operation"
	lCategory  = "category"
	lReplica   = "replica"
	lMix       = "mix"
	lModel     = "model"
	lIndex     = "index"
	lKind      = "kind"
)

// metric is one exported metric family.
type metric struct {
	name, help string
	kind       kind
	labels     []string
	desc       *prometheus.Desc
}

func def(k kind, name, help string, labels ...string) *metric {
	return &metric{name: name, help: help, kind: k, labels: labels,
		desc: prometheus.NewDesc(name, help, labels, nil)}
}

// fromFigure defines the family that serves a figure of the report: its
// name, kind and help text come from the table of figures
// (results.Figures), whose entry names it.
func fromFigure(figure string, labels ...string) *metric {
	s := results.MustFigure(figure).Live
	if s == nil {
		panic("metrics: figure " + figure + " has no live series")
	}
	k := gauge
	switch s.Kind {
	case results.Counter:
		k = counter
	case results.Histogram:
		k = histogram
	}
	return def(k, s.Name, s.Help, labels...)
}

// The metric families, each labelled by scenario (and more). Those that
// serve a figure of the report take their name and help from the table of
// figures; the others are the run's and the pools' state, which the report
// has no figure for.
var (
	scenarioInfo    = def(gauge, "planrun_scenario_info", "A scenario of the run (always 1), with its mix and load model.", lScenario, lMix, lModel)
	scenarioRunning = def(gauge, "planrun_scenario_running", "1 while the scenario runs, 0 once it has ended.", lScenario)
	scenarioWarmup  = def(gauge, "planrun_scenario_warmup", "1 while the scenario is in its warm-up, whose operations the counters and histograms leave out (as the report does).", lScenario)
	scenarioElapsed = fromFigure("elapsed", lScenario)

	opsTotal       = fromFigure("ops", lScenario)
	errorsTotal    = fromFigure("errors_by."+results.ErrAcquireTimeout, lScenario, lCategory)
	droppedTotal   = fromFigure("dropped", lScenario)
	cancelledTotal = fromFigure("cancelled", lScenario)
	operationOps   = fromFigure(results.OperationPrefix+"ops", lScenario, lOperation)
	operationErrs  = fromFigure(results.OperationPrefix+"errors", lScenario, lOperation)

	acquireSeconds = fromFigure(results.OperationPrefix+"acquire.p95", lScenario, lOperation)
	querySeconds   = fromFigure(results.OperationPrefix+"query.p95", lScenario, lOperation)
	opSeconds      = fromFigure(results.OperationPrefix+"op.p95", lScenario, lOperation)

	poolOpen     = def(gauge, "planrun_pool_open", "Open connections of a replica's pool.", lScenario, lReplica)
	poolInUse    = def(gauge, "planrun_pool_in_use", "Connections checked out of a replica's pool.", lScenario, lReplica)
	poolIdle     = def(gauge, "planrun_pool_idle", "Idle connections of a replica's pool.", lScenario, lReplica)
	poolWaiting  = def(gauge, "planrun_pool_waiting", "Callers waiting for a connection of a replica's pool.", lScenario, lReplica)
	poolCapacity = def(gauge, "planrun_pool_capacity", "A replica's pool capacity: size + max_overflow.", lScenario, lReplica)

	users      = def(gauge, "planrun_users", "Active users of a closed model, or operations in flight of an open model.", lScenario)
	targetRate = def(gauge, "planrun_target_rate", "An open model's target arrival rate now, in arrivals per second (0 for a closed model).", lScenario)
	lateness   = fromFigure("generator.timer_lateness.p99", lScenario)

	serviceUtilization = fromFigure("service.utilization.max", lScenario)
	serviceInUse       = fromFigure("service.in_use.max", lScenario)
	serviceCapacity    = fromFigure("service.capacity", lScenario)
	serviceIdleInTx    = fromFigure("service.idle_in_transaction.max", lScenario)
	serverHeadroom     = fromFigure("service.headroom.min", lScenario)
	serverMaxConns     = def(gauge, "planrun_server_max_connections", "The server's max_connections, served beside the service under test's series.", lScenario)

	faultActive = def(gauge, "planrun_fault_active", "1 while a scheduled fault is under way, else 0; index counts the scenario's faults from 1.", lScenario, lIndex, lKind)
)

// all is every family, in exposition order.
var all = []*metric{
	scenarioInfo, scenarioRunning, scenarioWarmup, scenarioElapsed,
	opsTotal, errorsTotal, droppedTotal, cancelledTotal, operationOps, operationErrs,
	acquireSeconds, querySeconds, opSeconds,
	poolOpen, poolInUse, poolIdle, poolWaiting, poolCapacity,
	users, targetRate, lateness,
	serviceUtilization, serviceInUse, serviceCapacity, serviceIdleInTx, serverHeadroom, serverMaxConns,
	faultActive,
}

// Names returns the name of every series the collector exports, a
// histogram's as its _bucket, _sum and _count series, sorted.
func Names() []string {
	var out []string
	for _, m := range all {
		if m.kind == histogram {
			out = append(out, m.name+"_bucket", m.name+"_sum", m.name+"_count")
			continue
		}
		out = append(out, m.name)
	}
	slices.Sort(out)
	return out
}

// Buckets are the upper bounds, in seconds, of the fixed buckets of every
// histogram served: 0.5 ms doubling up to 65.536 s (18 buckets); larger
// values fall in the implicit +Inf bucket.
var Buckets = func() []float64 {
	out := make([]float64, 18)
	for i := range out {
		out[i] = 0.0005 * math.Pow(2, float64(i))
	}
	return out
}()

// Collector is a prometheus.Collector over the latest live snapshot of each
// scenario of a run. It is a sink of the run's live stream ([live.Sink]):
// a scenario that has ended keeps its final snapshot, so its counters stay
// at its results. Safe for concurrent use.
type Collector struct {
	mu    sync.Mutex
	snaps []*snapshot // in scenario order
}

// snapshot is a scenario's latest live snapshot and its histograms,
// counted into Buckets when it came (the engine's own are only valid then).
type snapshot struct {
	*live.Snapshot
	ops      []opHistograms // as Scenario.Operations
	lateness bucketed
}

type opHistograms struct{ acquire, query, op bucketed }

var (
	_ live.Sink            = (*Collector)(nil)
	_ live.GeneratorReader = (*Collector)(nil)
	_ prometheus.Collector = (*Collector)(nil)
)

// NewCollector returns a collector with no scenario yet.
func NewCollector() *Collector { return &Collector{} }

// Live keeps s as its scenario's latest snapshot. It never stops the
// scenario (nil).
func (c *Collector) Live(s *live.Snapshot) *results.Outcome {
	kept := *s
	kept.Histograms = live.Histograms{} // the engine's, not ours to keep
	snap := &snapshot{Snapshot: &kept, lateness: bucketize(s.Histograms.Lateness, time.Microsecond)}
	for _, o := range s.Histograms.Operations {
		snap.ops = append(snap.ops, opHistograms{
			acquire: bucketize(o.Acquire, time.Nanosecond),
			query:   bucketize(o.Query, time.Nanosecond),
			op:      bucketize(o.Op, time.Nanosecond),
		})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, old := range c.snaps {
		if old.Scenario.Name == s.Scenario.Name {
			c.snaps[i] = snap
			return nil
		}
	}
	c.snaps = append(c.snaps, snap)
	slices.SortStableFunc(c.snaps, func(a, b *snapshot) int { return a.Index - b.Index })
	return nil
}

// ReadsGenerator is false: the collector serves the generator's timer
// lateness from the snapshot's histogram, not Scenario.Generator
// ([live.GeneratorReader]).
func (c *Collector) ReadsGenerator() bool { return false }

// Describe sends every family's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range all {
		ch <- m.desc
	}
}

// Collect sends the metrics of every scenario's latest snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	snaps := slices.Clone(c.snaps) // snapshots are never changed once handed over
	c.mu.Unlock()
	for _, s := range snaps {
		collectScenario(ch, s)
	}
}

// collectScenario sends one scenario's metrics.
func collectScenario(ch chan<- prometheus.Metric, s *snapshot) {
	res := s.Scenario
	sc := res.Name
	emit := func(m *metric, v float64, labels ...string) {
		t := prometheus.GaugeValue
		if m.kind == counter {
			t = prometheus.CounterValue
		}
		send(ch, m, func() (prometheus.Metric, error) {
			return prometheus.NewConstMetric(m.desc, t, v, append([]string{sc}, labels...)...)
		})
	}
	hist := func(m *metric, h bucketed, labels ...string) {
		buckets := make(map[float64]uint64, len(Buckets))
		for i, le := range Buckets {
			if i < len(h.buckets) {
				buckets[le] = h.buckets[i]
			}
		}
		send(ch, m, func() (prometheus.Metric, error) {
			return prometheus.NewConstHistogram(m.desc, h.count, h.sum, buckets, append([]string{sc}, labels...)...)
		})
	}

	emit(scenarioInfo, 1, res.Mix, string(res.Model))
	emit(scenarioRunning, flag(!s.Final))
	emit(scenarioWarmup, flag(s.Warmup))
	emit(scenarioElapsed, res.Elapsed.Seconds())

	emit(opsTotal, float64(res.Ops))
	for _, cat := range results.ErrorCategories { // every one but cancelled, 0 or not
		if cat != results.ErrCancelled {
			emit(errorsTotal, float64(res.ErrorsBy[cat]), cat)
		}
	}
	emit(droppedTotal, float64(res.Dropped))
	emit(cancelledTotal, float64(res.Cancelled))
	for i, o := range res.Operations {
		emit(operationOps, float64(o.Ops), o.Name)
		emit(operationErrs, float64(o.Errors), o.Name)
		var h opHistograms
		if i < len(s.ops) {
			h = s.ops[i]
		}
		hist(acquireSeconds, h.acquire, o.Name)
		hist(querySeconds, h.query, o.Name)
		hist(opSeconds, h.op, o.Name)
	}

	for _, p := range s.Pools {
		r := strconv.Itoa(p.Replica)
		emit(poolOpen, float64(p.Open), r)
		emit(poolInUse, float64(p.InUse), r)
		emit(poolIdle, float64(p.Idle), r)
		emit(poolWaiting, float64(p.Waiting), r)
		emit(poolCapacity, float64(p.Capacity), r)
	}
	emit(users, float64(s.Users))
	emit(targetRate, s.TargetRate)
	hist(lateness, s.lateness)

	if svc := res.Service; svc != nil && svc.NotFound == "" {
		// The service under test, once its backends were found: its
		// capacity and the server's limit, and from the first sample on its
		// levels at the latest one (alerts.SourceWatch reads these).
		emit(serviceCapacity, float64(svc.Capacity))
		if s.Run != nil && s.Run.Target.MaxConnections > 0 {
			emit(serverMaxConns, float64(s.Run.Target.MaxConnections))
		}
		if l := svc.Last; l != nil {
			emit(serviceUtilization, l.Utilization)
			emit(serviceInUse, float64(l.InUse))
			emit(serviceIdleInTx, l.OldestIdleInTransaction.Seconds())
			emit(serverHeadroom, float64(l.Headroom))
		}
	}

	for _, f := range s.Faults {
		emit(faultActive, flag(f.Active), strconv.Itoa(f.Index), f.Kind)
	}
}

// bucketed is a cumulative histogram over [Buckets]: buckets[i] counts the
// values up to Buckets[i] seconds (so it never decreases with i), count
// all of them, sum their total in seconds.
type bucketed struct {
	count   uint64
	sum     float64
	buckets []uint64
}

// bucketize counts h's values (in units of unit) into Buckets. A value is
// placed within the HdrHistogram's precision (2 significant figures for an
// operation's times).
func bucketize(h *hdrhistogram.Histogram, unit time.Duration) bucketed {
	out := bucketed{buckets: make([]uint64, len(Buckets))}
	if h == nil || h.TotalCount() == 0 {
		return out
	}
	per := unit.Seconds()
	b := 0
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		// A bar holds values From..To, equivalent within the histogram's
		// precision; its middle stands for them.
		v := float64(bar.From+bar.To) / 2 * per
		for b < len(Buckets) && v > Buckets[b] {
			b++
		}
		if b < len(Buckets) {
			out.buckets[b] += uint64(bar.Count)
		}
		out.count += uint64(bar.Count)
		out.sum += v * float64(bar.Count)
	}
	for i := 1; i < len(out.buckets); i++ {
		out.buckets[i] += out.buckets[i-1]
	}
	return out
}

// send sends the metric build returns, or an invalid metric naming the error
// (a label value that is not UTF-8): the scrape reports it and serves the rest.
func send(ch chan<- prometheus.Metric, m *metric, build func() (prometheus.Metric, error)) {
	pm, err := build()
	if err != nil {
		pm = prometheus.NewInvalidMetric(m.desc, err)
	}
	ch <- pm
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
