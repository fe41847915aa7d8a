package results

import (
	"slices"
	"strings"
	"time"
)

// The table of figures: one entry per figure a scenario reports, the
// equivalent of k6's metric registry. An entry says what assertions call the
// figure, its unit, which way is better, how `planrun merge` combines the
// segments' values, a one-line description, how to read it from a
// [Scenario], where the JSON report holds it and, when it is served live,
// its Prometheus series. compare takes each compared figure's unit and
// direction from here, the renderers their column headers and value
// formats, package metrics the names and help texts of the series it
// serves, and docs/assertions.md its table "Every figure" (a test keeps
// both in step).
//
// A new figure is one tagged field of [Scenario] (computed once, in the
// engine) and one entry here, plus its line in the docs.

// Unit is the unit of a figure's value, as docs/assertions.md's tables
// name it.
type Unit string

// Units. A figure's [Figure.Value] is a float64 in the unit: durations in
// nanoseconds, booleans 1 (true) or 0.
const (
	UnitDuration  Unit = "duration"          // a time.Duration, nanoseconds
	UnitCount     Unit = "integer"           // a count
	UnitRate      Unit = "rate"              // a fraction from 0 to 1, shown as a percentage
	UnitOpsPerSec Unit = "float, ops/s"      // successful operations per second
	UnitPerSecond Unit = "float, per second" // arrivals per second
	UnitNumber    Unit = "float"             // a plain number (a mean of counts)
	UnitCores     Unit = "float, cores"      // CPU use in cores (1.5 = one and a half cores busy)
	UnitBool      Unit = "bool"              // true (1) or false (0)
)

// Direction says which way a figure is better.
type Direction int

// Directions.
const (
	// Neither: a figure that describes the load or the run (ops, users,
	// elapsed), not how well the pool did.
	Neither Direction = iota
	// LowerIsBetter: latencies, errors, exhaustion, leaks, recovery.
	LowerIsBetter
	// HigherIsBetter: throughput, success_rate, connections.reuse, recovered.
	HigherIsBetter
)

// String is how docs/assertions.md shows the direction: "lower", "higher"
// or "–".
func (d Direction) String() string {
	switch d {
	case LowerIsBetter:
		return "lower"
	case HigherIsBetter:
		return "higher"
	}
	return "–"
}

// Combine is how `planrun merge` combines the segments' values of a figure
// (docs/merge.md, "How each figure is merged"), as docs/assertions.md shows
// it.
type Combine string

// Combines.
const (
	// CombineHistogram: the segments' HdrHistograms are merged and
	// summarised again: exact.
	CombineHistogram Combine = "exact (histograms merged)"
	// CombineSum: summed.
	CombineSum Combine = "summed"
	// CombineSumBound: summed peaks, an upper bound (the segments' peaks
	// need not have been at the same moment).
	CombineSumBound Combine = "summed, an upper bound"
	// CombineMax: the largest (longest) of the segments'.
	CombineMax Combine = "the largest"
	// CombineMaxBound: the largest of the segments' percentiles, an upper
	// bound of the true percentile.
	CombineMaxBound Combine = "the largest, an upper bound"
	// CombineMin: the smallest of the segments'.
	CombineMin Combine = "the smallest"
	// CombineWeighted: the mean of the segments', weighted by their counts.
	CombineWeighted Combine = "mean weighted by count"
	// CombineWeightedSamples: the mean of the segments', weighted by their
	// samples (the service's sampled levels).
	CombineWeightedSamples Combine = "mean weighted by samples"
	// CombineRecompute: recomputed from merged figures (ratios, shares).
	CombineRecompute Combine = "recomputed"
	// CombineMean: the mean over the replicas, each counting equally.
	CombineMean Combine = "mean over replicas"
	// CombineWorst: the worst of the segments' (recovery).
	CombineWorst Combine = "the worst"
	// CombineMachine: the busiest machine's (highest machine CPU per
	// core), the generator figures kept together.
	CombineMachine Combine = "the busiest machine's"
)

// Compared says whether `planrun compare` shows a figure.
type Compared int

// Compare roles.
const (
	NotCompared Compared = iota
	// Judged: a worse value beyond the tolerance and the noise is a
	// regression, by the figure's [Direction].
	Judged
	// Shown: reported only, never a regression (too few samples to
	// estimate its noise, or no direction that is worse).
	Shown
)

// SeriesKind is how a live series is exposed to Prometheus.
type SeriesKind string

// Series kinds, as docs/metrics.md names them.
const (
	Counter   SeriesKind = "counter"
	Gauge     SeriesKind = "gauge"
	Histogram SeriesKind = "histogram" // in seconds, fixed buckets
)

// Series is the Prometheus series that serves a figure while the run runs
// (docs/metrics.md, "Live metrics"). Its names are a public contract:
// dashboards and alerts query them.
type Series struct {
	Name string
	Kind SeriesKind
	Help string
}

// Figure is one entry of the table of figures.
type Figure struct {
	// Name is the figure as assertions read it: "acquire.p95",
	// "errors_by.acquire_timeout", "operations.<name>.op.p95" (a
	// per-operation figure, <name> standing for the operation).
	Name string
	Unit Unit
	// Better is the direction in which the figure improves.
	Better Direction
	// Combine is how merge combines the segments' values.
	Combine Combine
	// Description says what the figure is, in one line.
	Description string
	// Value reads the figure from a scenario, in its unit (see [Unit]).
	// A per-operation figure reads the scenario's first operation; see
	// [Figure.OfOperation].
	Value func(*Scenario) float64
	// OfOperation reads a per-operation figure from one operation (nil for
	// a scenario's figure).
	OfOperation func(*Operation) float64
	// JSON is where the JSON report holds it: a dotted path of keys from
	// the scenario, `[]` standing for every element of a list (the figure
	// is the largest of them for replicas.*).
	JSON string
	// Live is the Prometheus series that serves it while the run runs; nil
	// when none does. Several figures share one series (a histogram serves
	// every member of its latency; one counter with a category label every
	// errors_by.*).
	Live *Series
	// Column is the short header the renderers give it when they show it
	// as a column or a field ("ops/s", "acquire p95"); "" for a figure no
	// table shows on its own.
	Column string
	// Compare is what `planrun compare` does with it; Label is the row
	// name compare prints when it is not Name ("timeouts").
	Compare Compared
	Label   string
}

// OperationPrefix starts every per-operation figure's name:
// operations.<name>.member.
const OperationPrefix = "operations.<name>."

// Latency members, in the order of the Latency type.
var latencyMembers = []struct {
	name, what string
	read       func(Latency) time.Duration
}{
	{"min", "the smallest", func(l Latency) time.Duration { return l.Min }},
	{"mean", "the mean", func(l Latency) time.Duration { return l.Mean }},
	{"p50", "the median", func(l Latency) time.Duration { return l.P50 }},
	{"p90", "the 90th percentile", func(l Latency) time.Duration { return l.P90 }},
	{"p95", "the 95th percentile", func(l Latency) time.Duration { return l.P95 }},
	{"p99", "the 99th percentile", func(l Latency) time.Duration { return l.P99 }},
	{"max", "the largest", func(l Latency) time.Duration { return l.Max }},
}

// latencyFamily lists the figures of one latency: count, then min … max.
// combine is how its durations merge, CombineHistogram or, for a latency
// kept without its histogram, CombineMaxBound: then min, mean and max
// combine exactly from the summaries and only the percentiles are bounds.
// Its count is always summed.
func latencyFamily(name, json, desc string, better Direction, combine Combine, read func(*Scenario) *Latency, live *Series) []Figure {
	out := []Figure{{
		Name: name + ".count", Unit: UnitCount, Better: Neither, Combine: CombineSum,
		Description: desc + ": how many values were recorded",
		Value:       func(s *Scenario) float64 { return float64(read(s).Count) },
		JSON:        json + ".count", Live: live,
	}}
	for _, m := range latencyMembers {
		c := combine
		if combine == CombineMaxBound {
			switch m.name {
			case "min":
				c = CombineMin
			case "mean":
				c = CombineWeighted
			case "max":
				c = CombineMax
			}
		}
		out = append(out, Figure{
			Name: name + "." + m.name, Unit: UnitDuration, Better: better, Combine: c,
			Description: desc + ": " + m.what,
			Value:       func(s *Scenario) float64 { return float64(m.read(*read(s))) },
			JSON:        json + "." + m.name, Live: live,
			Column: strings.ReplaceAll(name, "_", " ") + " " + m.name,
		})
	}
	return out
}

// opLatencyFamily is latencyFamily for an operation's latency.
func opLatencyFamily(name, desc string, read func(*Operation) *Latency, live *Series) []Figure {
	fs := latencyFamily(OperationPrefix+name, "operations[]."+name, desc, LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return read(firstOp(s)) }, live)
	for i := range fs {
		member := fs[i].Name[strings.LastIndexByte(fs[i].Name, '.')+1:]
		fs[i].OfOperation = func(o *Operation) float64 {
			l := read(o)
			if member == "count" {
				return float64(l.Count)
			}
			for _, m := range latencyMembers {
				if m.name == member {
					return float64(m.read(*l))
				}
			}
			return 0
		}
		fs[i].Column = name + " " + member
	}
	return fs
}

// firstOp is the operation a per-operation figure's Value reads: the
// scenario's first (a zero one when it has none).
func firstOp(s *Scenario) *Operation {
	if len(s.Operations) == 0 {
		return &Operation{}
	}
	return &s.Operations[0]
}

// keyed lists one figure per key of a count map (errors_by.<key>,
// connections.closed_by.<key>).
func keyed(prefix string, keys []string, better func(string) Direction, desc map[string]string, read func(*Scenario) map[string]int64, live *Series) []Figure {
	var out []Figure
	for _, k := range keys {
		f := Figure{
			Name: prefix + "." + k, Unit: UnitCount, Better: better(k), Combine: CombineSum,
			Description: desc[k],
			Value:       func(s *Scenario) float64 { return float64(read(s)[k]) },
			JSON:        prefix + "." + k, Live: live,
		}
		if prefix == "errors_by" && k == ErrCancelled {
			f.Live = nil // always 0: planrun_cancelled_total serves `cancelled`
		}
		out = append(out, f)
	}
	return out
}

// worstReplica is the largest value of f over a scenario's replicas, or f
// of the scenario's own figures for a report without replicas (one pool).
// assertions reads replicas.* the same way.
func worstReplica(s *Scenario, f func(Utilization, Exhaustion, int) float64) float64 {
	if len(s.Replicas) == 0 {
		return f(s.Utilization, s.Exhaustion, s.Connections.MaxOpen)
	}
	var w float64
	for _, r := range s.Replicas {
		w = max(w, f(r.Utilization, r.Exhaustion, r.MaxOpen))
	}
	return w
}

func flag01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// svc is a scenario's service record, or a zero one without
// target.service (assertions skip a service figure there as unmeasured).
func svc(s *Scenario) *Service {
	if s.Service == nil {
		return &Service{}
	}
	return s.Service
}

// serviceLevel lists the figures of one of the service's levels (backends,
// in use): max, mean and p95 over the samples.
func serviceLevel(name, what string, better Direction, live *Series, read func(*Service) ServiceLevel) []Figure {
	json := "service." + name
	return []Figure{
		{Name: json + ".max", Unit: UnitCount, Better: better, Combine: CombineMax,
			Description: what + ", sampled: the most in one sample", JSON: json + ".max", Live: live,
			Value: func(s *Scenario) float64 { return float64(read(svc(s)).Max) }},
		{Name: json + ".mean", Unit: UnitNumber, Better: better, Combine: CombineWeightedSamples,
			Description: what + ", sampled: the mean over the samples", JSON: json + ".mean", Live: live,
			Value: func(s *Scenario) float64 { return read(svc(s)).Mean }},
		{Name: json + ".p95", Unit: UnitCount, Better: better, Combine: CombineMaxBound,
			Description: what + ", sampled: the level 95 % of the samples were at or below", JSON: json + ".p95", Live: live,
			Value: func(s *Scenario) float64 { return float64(read(svc(s)).P95) }},
	}
}

// serviceFigures lists the service.* figures (docs/metrics.md, "The
// service under test"). The server sees the service whole from every
// segment of a segmented run, so merge takes the largest segment's levels
// and leaks rather than summing them; only the connections, counted at
// each segment's own proxy, are summed.
func serviceFigures() []Figure {
	out := []Figure{{Name: "service.capacity", Unit: UnitCount, Combine: CombineMax,
		Description: "what the service's pools may open together: processes × (size + max_overflow)", JSON: "service.capacity", Live: liveServiceCapacity,
		Value: func(s *Scenario) float64 { return float64(svc(s).Capacity) }}}
	out = append(out, serviceLevel("backends", "the service's backends (every state)", Neither, nil,
		func(v *Service) ServiceLevel { return v.Backends })...)
	out = append(out, serviceLevel("in_use", "the service's backends active or idle in transaction", Neither, liveServiceInUse,
		func(v *Service) ServiceLevel { return v.InUse })...)
	out = append(out,
		Figure{Name: "service.utilization.mean", Unit: UnitRate, Better: LowerIsBetter, Combine: CombineWeightedSamples,
			Description: "the service's in use ÷ capacity: the mean over the samples", JSON: "service.utilization.mean", Live: liveServiceUtilization,
			Value: func(s *Scenario) float64 { return svc(s).Utilization.Mean }},
		Figure{Name: "service.utilization.p95", Unit: UnitRate, Better: LowerIsBetter, Combine: CombineMaxBound,
			Description: "the service's in use ÷ capacity: the level 95 % of the samples were at or below", JSON: "service.utilization.p95", Live: liveServiceUtilization,
			Value: func(s *Scenario) float64 { return svc(s).Utilization.P95 }},
		Figure{Name: "service.utilization.max", Unit: UnitRate, Better: LowerIsBetter, Combine: CombineMax,
			Description: "the service's in use ÷ capacity: the highest in one sample", JSON: "service.utilization.max", Live: liveServiceUtilization,
			Value: func(s *Scenario) float64 { return svc(s).Utilization.Max }},
		Figure{Name: "service.idle_in_transaction.max", Unit: UnitDuration, Better: LowerIsBetter, Combine: CombineMax,
			Description: "the longest a backend of the service was seen idle in transaction, warm-up included", JSON: "service.idle_in_transaction.max", Live: liveServiceIdleInTx,
			Value: func(s *Scenario) float64 { return float64(svc(s).IdleInTransaction.Max) }},
		Figure{Name: "service.lock_waits.max", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineMax,
			Description: "the most backends of the service waiting on a lock in one sample", JSON: "service.lock_waits.max",
			Value: func(s *Scenario) float64 { return float64(svc(s).LockWaits.Max) }},
		Figure{Name: "service.headroom.min", Unit: UnitCount, Better: HigherIsBetter, Combine: CombineMin,
			Description: "the server's fewest free connection slots in one sample", JSON: "service.headroom.min", Live: liveServerHeadroom,
			Value: func(s *Scenario) float64 { return float64(svc(s).Headroom.Min) }},
		Figure{Name: "service.saturation.episodes", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineMax,
			Description: "the episodes in which the service's pool was at capacity (in use = capacity), sampled", JSON: "service.saturation.episodes",
			Value: func(s *Scenario) float64 { return float64(svc(s).Saturation.Episodes) }},
		Figure{Name: "service.saturation.longest", Unit: UnitDuration, Better: LowerIsBetter, Combine: CombineMax,
			Description: "the longest episode at capacity, from its first sample at capacity to the first below it (to one interval)", JSON: "service.saturation.longest",
			Value: func(s *Scenario) float64 { return float64(svc(s).Saturation.Longest) }},
		Figure{Name: "service.leaks", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineMax,
			Description: "the service's backends idle in transaction past `pool.leak_threshold` or still checked out after the drain", JSON: "service.leaks",
			Value: func(s *Scenario) float64 { return float64(svc(s).Leaks) }},
		Figure{Name: "service.connections.opened", Unit: UnitCount, Combine: CombineSum,
			Description: "the service's server connections opened, counted at planrun's proxy", JSON: "service.connections.opened",
			Value: func(s *Scenario) float64 { return float64(svc(s).Connections.Opened) }},
		Figure{Name: "service.connections.closed", Unit: UnitCount, Combine: CombineSum,
			Description: "the service's server connections closed, counted at planrun's proxy", JSON: "service.connections.closed",
			Value: func(s *Scenario) float64 { return float64(svc(s).Connections.Closed) }},
		Figure{Name: "service.connections.max_open", Unit: UnitCount, Combine: CombineSumBound,
			Description: "the most server connections the service had open at once at planrun's proxy", JSON: "service.connections.max_open",
			Value: func(s *Scenario) float64 { return float64(svc(s).Connections.MaxOpen) }},
	)
	return out
}

// Live series of the figures (the pool's and the run's state, which are no
// figure of the report, are defined in package metrics).
var (
	liveOps = &Series{"planrun_ops_total", Counter,
		"Operations attempted after the warm-up, failed and dropped ones included (the report's ops)."}
	liveErrors = &Series{"planrun_errors_total", Counter,
		"Failed operations after the warm-up by error category (the report's errors_by)."}
	liveDropped = &Series{"planrun_dropped_total", Counter,
		"Open-model arrivals not run because max_in_flight operations were unfinished (also in ops and errors)."}
	liveCancelled = &Series{"planrun_cancelled_total", Counter,
		"Operations cut short by a stop, counted apart from ops and errors."}
	liveElapsed = &Series{"planrun_scenario_elapsed_seconds", Gauge,
		"Time since the scenario started, at its last snapshot."}
	liveOpOps = &Series{"planrun_operation_ops_total", Counter,
		"Operations attempted after the warm-up, per operation of the mix."}
	liveOpErrors = &Series{"planrun_operation_errors_total", Counter,
		"Failed operations after the warm-up, per operation of the mix."}
	liveAcquire = &Series{"planrun_acquire_seconds", Histogram,
		"Time to acquire a connection from the pool, per operation, after the warm-up."}
	liveQuery = &Series{"planrun_query_seconds", Histogram,
		"Time of each statement, per operation, after the warm-up."}
	liveOp = &Series{"planrun_op_seconds", Histogram,
		"Time of a whole operation (acquire, statements, hold, release; from the scheduled start in an open model), after the warm-up."}
	liveServiceUtilization = &Series{"planrun_service_utilization", Gauge,
		"The service under test's backends in use (active or idle in transaction) ÷ its capacity, at the last sample of pg_stat_activity."}
	liveServiceInUse = &Series{"planrun_service_in_use", Gauge,
		"The service under test's backends active or idle in transaction, at the last sample."}
	liveServiceCapacity = &Series{"planrun_service_capacity", Gauge,
		"What the service under test's pools may open together: processes × (size + max_overflow)."}
	liveServiceIdleInTx = &Series{"planrun_service_idle_in_transaction_max_seconds", Gauge,
		"How long the service's oldest backend idle in transaction had been so, at the last sample (0 when none was)."}
	liveServerHeadroom = &Series{"planrun_server_headroom", Gauge,
		"The server's free connection slots at the last sample: max_connections − reserved − every client backend."}
	liveLateness = &Series{"planrun_generator_lateness_seconds", Histogram,
		"How late the load generator's own 10 ms timer fired, warm-up included: a starved generator measures itself, not the pool."}
)

var errorDescriptions = map[string]string{
	ErrAcquireTimeout: "acquires that waited `pool.timeout` and failed",
	ErrConnect:        "a server connection could not be opened",
	ErrQuery:          "the server rejected a statement",
	ErrBroken:         "the connection died mid-operation",
	ErrCancelled:      "always 0 since report schema 2: cut-short operations are counted in `cancelled`",
	ErrArgs:           "an `args` expression failed at run time",
	ErrDropped:        "open model: arrivals not run because `max_in_flight` operations were unfinished",
	ErrOther:          "anything else",
	ErrHTTP5xx:        "HTTP operations the service answered with a 5xx status",
	ErrHTTP4xx:        "HTTP operations the service answered with a 4xx status",
	ErrHTTPTimeout:    "HTTP operations with no complete response within their `timeout`",
	ErrHTTPConnect:    "HTTP operations that got no response: connection refused, reset or closed",
}

var closeDescriptions = map[string]string{
	CloseRecycled: "connections closed because older than `pool.recycle`",
	CloseOverflow: "overflow connections closed on return while `pool.size` were idle",
	CloseBroken:   "connections closed after a failed pre-ping or a broken connection",
	CloseEnd:      "connections closed with the pool at the scenario's end",
}

// figures is the table, in docs/assertions.md's order.
var figures = func() []Figure {
	var t []Figure
	add := func(fs ...Figure) { t = append(t, fs...) }

	// Latencies.
	add(latencyFamily("acquire", "acquire", "getting a connection from the pool (timeouts at their wait time)", LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return &s.Acquire }, nil)...)
	add(latencyFamily("query", "query", "each statement's server round trip", LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return &s.Query }, nil)...)
	add(latencyFamily("op", "op", "one whole operation (acquire, statements, BEGIN/COMMIT, hold)", LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return &s.Op }, nil)...)
	add(latencyFamily("hold", "hold", "how long each checkout kept its connection", LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return &s.Hold }, nil)...)
	add(latencyFamily("connect", "connect", "opening one new server connection", LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return &s.Connect }, nil)...)
	add(latencyFamily("generator_lag", "generator_lag", "how late planrun's 100 ms sampling clock ticked", LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return &s.GeneratorLag }, nil)...)

	// Per operation.
	add(opLatencyFamily("acquire", "its acquires", func(o *Operation) *Latency { return &o.Acquire }, liveAcquire)...)
	add(opLatencyFamily("query", "its statements' round trips", func(o *Operation) *Latency { return &o.Query }, liveQuery)...)
	add(opLatencyFamily("op", "the whole operation", func(o *Operation) *Latency { return &o.Op }, liveOp)...)
	add(opLatencyFamily("hold", "how long it kept its connection", func(o *Operation) *Latency { return &o.Hold }, nil)...)
	add(Figure{Name: OperationPrefix + "ops", Unit: UnitCount, Combine: CombineSum,
		Description: "its attempted operations", JSON: "operations[].ops", Live: liveOpOps, Column: "ops",
		Value: func(s *Scenario) float64 { return float64(firstOp(s).Ops) }, OfOperation: func(o *Operation) float64 { return float64(o.Ops) }},
		Figure{Name: OperationPrefix + "errors", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineSum,
			Description: "its failed operations", JSON: "operations[].errors", Live: liveOpErrors, Column: "errors", Compare: Judged,
			Value: func(s *Scenario) float64 { return float64(firstOp(s).Errors) }, OfOperation: func(o *Operation) float64 { return float64(o.Errors) }},
		Figure{Name: OperationPrefix + "success_rate", Unit: UnitRate, Better: HigherIsBetter, Combine: CombineRecompute,
			Description: "1 − errors/ops (1 when ops is 0)", JSON: "operations[].success_rate", Column: "success",
			Value: func(s *Scenario) float64 { return firstOp(s).SuccessRate }, OfOperation: func(o *Operation) float64 { return o.SuccessRate }})

	// Totals and errors.
	add(Figure{Name: "ops", Unit: UnitCount, Combine: CombineSum,
		Description: "every attempted operation, failed ones included", JSON: "ops", Live: liveOps, Column: "ops",
		Value: func(s *Scenario) float64 { return float64(s.Ops) }},
		Figure{Name: "errors", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineSum,
			Description: "failed operations", JSON: "errors", Column: "errors", Compare: Judged,
			Value: func(s *Scenario) float64 { return float64(s.Errors) }},
		Figure{Name: "success_rate", Unit: UnitRate, Better: HigherIsBetter, Combine: CombineRecompute,
			Description: "1 − errors/ops (1 when ops is 0)", JSON: "success_rate", Column: "success", Compare: Judged,
			Value: func(s *Scenario) float64 { return s.SuccessRate }},
		Figure{Name: "throughput", Unit: UnitOpsPerSec, Better: HigherIsBetter, Combine: CombineRecompute,
			Description: "successful operations per second of the elapsed time (after the warm-up)", JSON: "throughput", Column: "ops/s", Compare: Judged,
			Value: func(s *Scenario) float64 { return s.Throughput }},
		Figure{Name: "cancelled", Unit: UnitCount, Combine: CombineSum,
			Description: "operations cut short because the run was stopped; not in ops nor errors", JSON: "cancelled", Live: liveCancelled, Column: "cancelled",
			Value: func(s *Scenario) float64 { return float64(s.Cancelled) }})
	add(keyed("errors_by", ErrorCategories, func(string) Direction { return LowerIsBetter }, errorDescriptions,
		func(s *Scenario) map[string]int64 { return s.ErrorsBy }, liveErrors)...)

	// Pool health.
	add(Figure{Name: "leaks", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineSum,
		Description: "connections held longer than `pool.leak_threshold` or still checked out at the end", JSON: "leaks", Compare: Judged,
		Value: func(s *Scenario) float64 { return float64(s.Leaks) }},
		Figure{Name: "recovery", Unit: UnitDuration, Better: LowerIsBetter, Combine: CombineWorst,
			Description: "time until the pool was healthy again after stage `recovery_after` or a fault (the worst)", JSON: "recovery.duration", Compare: Judged,
			Value: func(s *Scenario) float64 {
				if s.Recovery == nil {
					return 0
				}
				return float64(s.Recovery.Duration)
			}},
		Figure{Name: "recovered", Unit: UnitBool, Better: HigherIsBetter, Combine: CombineWorst,
			Description: "false when the pool was not healthy again by the scenario's end", JSON: "recovery.status",
			Value: func(s *Scenario) float64 { return flag01(s.Recovery == nil || s.Recovery.Recovered()) }},
		Figure{Name: "utilization.mean", Unit: UnitRate, Combine: CombineMean,
			Description: "busy connections / (size + max_overflow), time-weighted mean", JSON: "utilization.mean",
			Value: func(s *Scenario) float64 { return s.Utilization.Mean }},
		Figure{Name: "utilization.p95", Unit: UnitRate, Combine: CombineMaxBound,
			Description: "the level the pool was at or below for 95 % of the time", JSON: "utilization.p95", Compare: Shown,
			Value: func(s *Scenario) float64 { return s.Utilization.P95 }},
		Figure{Name: "utilization.max", Unit: UnitRate, Combine: CombineMax,
			Description: "the highest level reached at any instant", JSON: "utilization.max",
			Value: func(s *Scenario) float64 { return s.Utilization.Max }},
		Figure{Name: "connections.opened", Unit: UnitCount, Combine: CombineSum,
			Description: "server connections opened", JSON: "connections.opened",
			Value: func(s *Scenario) float64 { return float64(s.Connections.Opened) }},
		Figure{Name: "connections.closed", Unit: UnitCount, Combine: CombineSum,
			Description: "server connections closed", JSON: "connections.closed",
			Value: func(s *Scenario) float64 { return float64(s.Connections.Closed) }},
		Figure{Name: "connections.max_open", Unit: UnitCount, Combine: CombineSum,
			Description: "most connections open at once", JSON: "connections.max_open",
			Value: func(s *Scenario) float64 { return float64(s.Connections.MaxOpen) }},
		Figure{Name: "connections.reuse", Unit: UnitRate, Better: HigherIsBetter, Combine: CombineRecompute,
			Description: "1 − opened/acquires (0 when nothing was acquired)", JSON: "connections.reuse",
			Value: func(s *Scenario) float64 { return s.Connections.Reuse }})
	add(keyed("connections.closed_by", CloseReasons, func(k string) Direction {
		if k == CloseBroken {
			return LowerIsBetter
		}
		return Neither
	}, closeDescriptions, func(s *Scenario) map[string]int64 { return s.Connections.ClosedBy }, nil)...)
	add(Figure{Name: "exhaustion.events", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineSum,
		Description: "periods in which every connection was in use and acquires waited", JSON: "exhaustion.events",
		Value: func(s *Scenario) float64 { return float64(s.Exhaustion.Events) }},
		Figure{Name: "exhaustion.total", Unit: UnitDuration, Better: LowerIsBetter, Combine: CombineSum,
			Description: "their total length", JSON: "exhaustion.total",
			Value: func(s *Scenario) float64 { return float64(s.Exhaustion.Total) }},
		Figure{Name: "exhaustion.longest", Unit: UnitDuration, Better: LowerIsBetter, Combine: CombineMax,
			Description: "the longest one", JSON: "exhaustion.longest",
			Value: func(s *Scenario) float64 { return float64(s.Exhaustion.Longest) }},
		Figure{Name: "exhaustion.timeouts", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineSum,
			Description: "acquire timeouts during those periods", JSON: "exhaustion.timeouts",
			Value: func(s *Scenario) float64 { return float64(s.Exhaustion.Timeouts) }},
		Figure{Name: "exhaustion.share", Unit: UnitRate, Better: LowerIsBetter, Combine: CombineRecompute,
			Description: "`exhaustion.total` as a fraction of the measured time", JSON: "exhaustion.share",
			Value: func(s *Scenario) float64 { return s.Exhaustion.Share }})
	worst := func(name string, unit Unit, better Direction, desc string, f func(Utilization, Exhaustion, int) float64) Figure {
		json := "replicas[]." + strings.TrimPrefix(name, "replicas.")
		return Figure{Name: name, Unit: unit, Better: better, Combine: CombineRecompute, Description: desc, JSON: json,
			Value: func(s *Scenario) float64 { return worstReplica(s, f) }}
	}
	add(worst("replicas.utilization.mean", UnitRate, Neither, "the highest `utilization.mean` of any replica",
		func(u Utilization, _ Exhaustion, _ int) float64 { return u.Mean }),
		worst("replicas.utilization.p95", UnitRate, Neither, "the highest `utilization.p95` of any replica",
			func(u Utilization, _ Exhaustion, _ int) float64 { return u.P95 }),
		worst("replicas.utilization.max", UnitRate, Neither, "the highest `utilization.max` of any replica",
			func(u Utilization, _ Exhaustion, _ int) float64 { return u.Max }),
		worst("replicas.exhaustion.events", UnitCount, LowerIsBetter, "the most exhaustion periods of any replica",
			func(_ Utilization, e Exhaustion, _ int) float64 { return float64(e.Events) }),
		worst("replicas.exhaustion.total", UnitDuration, LowerIsBetter, "the longest total exhaustion of any replica",
			func(_ Utilization, e Exhaustion, _ int) float64 { return float64(e.Total) }),
		worst("replicas.exhaustion.longest", UnitDuration, LowerIsBetter, "the longest exhaustion period of any replica",
			func(_ Utilization, e Exhaustion, _ int) float64 { return float64(e.Longest) }),
		worst("replicas.exhaustion.timeouts", UnitCount, LowerIsBetter, "the most acquire timeouts of any replica",
			func(_ Utilization, e Exhaustion, _ int) float64 { return float64(e.Timeouts) }),
		worst("replicas.exhaustion.share", UnitRate, LowerIsBetter, "the highest exhaustion share of any replica",
			func(_ Utilization, e Exhaustion, _ int) float64 { return e.Share }),
		worst("replicas.max_open", UnitCount, Neither, "the most connections any one replica had open at once",
			func(_ Utilization, _ Exhaustion, m int) float64 { return float64(m) }))

	// The service under test (target.service), seen from the server.
	add(serviceFigures()...)

	// The open model.
	add(Figure{Name: "rate", Unit: UnitPerSecond, Combine: CombineSum,
		Description: "the target arrival rate: the mean over the scenario's rate profile", JSON: "rate", Column: "target/s",
		Value: func(s *Scenario) float64 { return s.Rate }},
		Figure{Name: "arrivals", Unit: UnitCount, Combine: CombineSum,
			Description: "arrivals scheduled in the measured window", JSON: "arrivals",
			Value: func(s *Scenario) float64 { return float64(s.Arrivals) }},
		Figure{Name: "dropped", Unit: UnitCount, Better: LowerIsBetter, Combine: CombineSum,
			Description: "arrivals not run because `max_in_flight` operations were unfinished", JSON: "dropped", Live: liveDropped, Column: "dropped",
			Value: func(s *Scenario) float64 { return float64(s.Dropped) }})
	add(latencyFamily("lag", "lag", "start lag (actual minus scheduled start of each operation)", LowerIsBetter, CombineHistogram,
		func(s *Scenario) *Latency { return &s.Lag }, nil)...)
	add(Figure{Name: "in_flight.mean", Unit: UnitNumber, Combine: CombineSum,
		Description: "unfinished operations, sampled every 10 ms: the mean", JSON: "in_flight.mean",
		Value: func(s *Scenario) float64 { return s.InFlight.Mean }},
		Figure{Name: "in_flight.max", Unit: UnitCount, Combine: CombineSumBound,
			Description: "unfinished operations, sampled every 10 ms: the most", JSON: "in_flight.max",
			Value: func(s *Scenario) float64 { return float64(s.InFlight.Max) }})

	// The load generator.
	add(latencyFamily("generator.timer_lateness", "generator.timer_lateness", "how late a 10 ms timer of planrun fired", LowerIsBetter, CombineMaxBound,
		func(s *Scenario) *Latency { return &s.Generator.TimerLateness }, liveLateness)...)
	add(latencyFamily("generator.proxy_lateness", "generator.proxy_lateness", "how late the emulated network delivered each chunk", LowerIsBetter, CombineMaxBound,
		func(s *Scenario) *Latency { return &s.Generator.ProxyLateness }, nil)...)
	add(Figure{Name: "generator.cpu", Unit: UnitCores, Combine: CombineMachine,
		Description: "planrun's own CPU use (-1 when unknown)", JSON: "generator.cpu",
		Value: func(s *Scenario) float64 { return s.Generator.CPU }},
		Figure{Name: "generator.server_cpu", Unit: UnitCores, Combine: CombineMachine,
			Description: "the embedded server's CPU use (-1 for an external target)", JSON: "generator.server_cpu",
			Value: func(s *Scenario) float64 { return s.Generator.ServerCPU }},
		Figure{Name: "generator.service_cpu", Unit: UnitCores, Combine: CombineMachine,
			Description: "the CPU use of the service under test that planrun started (-1 for a running service or none)", JSON: "generator.service_cpu",
			Value: func(s *Scenario) float64 { return s.Generator.ServiceCPU }},
		Figure{Name: "generator.machine_cpu", Unit: UnitCores, Combine: CombineMachine,
			Description: "the whole machine's busy CPU (-1 when unknown)", JSON: "generator.machine_cpu",
			Value: func(s *Scenario) float64 { return s.Generator.MachineCPU }},
		Figure{Name: "generator.cores", Unit: UnitCount, Combine: CombineMachine,
			Description: "the machine's CPUs", JSON: "generator.cores",
			Value: func(s *Scenario) float64 { return float64(s.Generator.Cores) }})

	// Context read from the scenario.
	add(Figure{Name: "users", Unit: UnitCount, Combine: CombineSumBound,
		Description: "the highest number of concurrent users (open model: operations in flight)", JSON: "max_users", Column: "users",
		Value: func(s *Scenario) float64 { return float64(s.MaxUsers) }},
		Figure{Name: "elapsed", Unit: UnitDuration, Combine: CombineMax,
			Description: "how long the scenario ran", JSON: "elapsed", Live: liveElapsed, Column: "elapsed",
			Value: func(s *Scenario) float64 { return float64(s.Elapsed) }},
		Figure{Name: "warmup", Unit: UnitDuration, Combine: CombineMax,
			Description: "the warm-up, left out of every other figure", JSON: "warmup",
			Value: func(s *Scenario) float64 { return float64(s.Warmup) }})

	// What compare shows, and under which name.
	for i := range t {
		switch t[i].Name {
		case "acquire.p50", "acquire.p95", "acquire.p99", "query.p95", "query.p99", "op.p95", "op.p99",
			OperationPrefix + "op.p95", OperationPrefix + "op.p99":
			t[i].Compare = Judged
		case "acquire.max", "service.utilization.max":
			t[i].Compare = Shown
		case "service.leaks":
			t[i].Compare = Judged
		case "errors_by." + ErrAcquireTimeout:
			t[i].Compare, t[i].Label = Judged, "timeouts"
		}
	}
	return t
}()

// byName indexes figures.
var byName = func() map[string]int {
	m := make(map[string]int, len(figures))
	for i, f := range figures {
		m[f.Name] = i
	}
	return m
}()

// Figures returns the table of figures, in docs/assertions.md's order.
func Figures() []Figure { return slices.Clone(figures) }

// FigureNamed returns the entry of a figure by its assertion name; a
// per-operation figure may be named with its operation
// ("operations.checkout.op.p95") or with <name>.
func FigureNamed(name string) (Figure, bool) {
	if i, ok := byName[name]; ok {
		return figures[i], true
	}
	if rest, ok := strings.CutPrefix(name, "operations."); ok {
		// The member is the longest known suffix (an operation's name may
		// hold dots).
		for i := 0; i < len(rest); i++ {
			if rest[i] == '.' {
				if j, ok := byName[OperationPrefix+rest[i+1:]]; ok {
					return figures[j], true
				}
			}
		}
	}
	return Figure{}, false
}

// MustFigure is [FigureNamed] for a name the caller knows is in the table;
// it panics otherwise (a programming error, caught by any test).
func MustFigure(name string) Figure {
	f, ok := FigureNamed(name)
	if !ok {
		panic("results: no figure named " + name)
	}
	return f
}

// LiveSeries lists the distinct Prometheus series of the table, in table
// order.
func LiveSeries() []*Series {
	var out []*Series
	for _, f := range figures {
		if f.Live != nil && !slices.Contains(out, f.Live) {
			out = append(out, f.Live)
		}
	}
	return out
}
