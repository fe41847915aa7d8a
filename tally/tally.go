// Package tally is the accumulator of one scenario's operation
// measurements: its latency histograms (scenario-wide and per operation),
// its counters (operations, errors, cancellations, errors by category, an
// open model's arrivals and dropped arrivals) and its start-lag and
// sampling-lag histograms.
//
// It records ([Scenario.Add]), merges ([Scenario.Merge]), and summarises
// into a [results.Scenario] ([Scenario.Summary]); [FromScenario] decodes a
// saved scenario back into one. The engine records into it while a
// scenario runs; planrun merge decodes every segment's scenario into one
// and merges them; both write the figures through the same Summary, so a
// figure is recorded, merged and summarised here and nowhere else.
//
// Adding a histogram or counter figure: a constant and a row in the tables
// below (latencies, opLatencies, counters, opCounters), and the line of
// [Scenario.Add] that records it.
package tally

import (
	"fmt"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/results"
)

// Histogram bounds: nanoseconds from 1 µs resolution up to one hour, 3
// significant figures (2 per operation). Values above the top are clamped
// to it.
const (
	Lowest    = 1000
	Highest   = int64(time.Hour)
	SigFigs   = 3
	OpSigFigs = 2
)

// Scenario-wide latency figures, indexes of latencies.
const (
	latAcquire = iota
	latQuery
	latOp
	latHold
	latLag          // an open model's start lag
	latGeneratorLag // the sampler's own lateness (AddSampleLag)
	latConnect      // the pools' connect times: filled by the engine from its pools, merged here
	nLatencies
)

// latencies names each scenario-wide latency (as in the JSON, for a
// message) and where it lives in a results.Scenario. recorded: the engine
// records it through Add, so each tally of a scenario holds its histogram
// from the start (lag: an open model's only).
var latencies = [nLatencies]struct {
	name     string
	field    func(*results.Scenario) *results.Latency
	recorded bool
}{
	latAcquire:      {"acquire", func(s *results.Scenario) *results.Latency { return &s.Acquire }, true},
	latQuery:        {"query", func(s *results.Scenario) *results.Latency { return &s.Query }, true},
	latOp:           {"op", func(s *results.Scenario) *results.Latency { return &s.Op }, true},
	latHold:         {"hold", func(s *results.Scenario) *results.Latency { return &s.Hold }, true},
	latLag:          {"lag", func(s *results.Scenario) *results.Latency { return &s.Lag }, false},
	latGeneratorLag: {"generator_lag", func(s *results.Scenario) *results.Latency { return &s.GeneratorLag }, false},
	latConnect:      {"connect", func(s *results.Scenario) *results.Latency { return &s.Connect }, false},
}

// Per-operation latency figures, indexes of opLatencies.
const (
	opAcquire = iota
	opQuery
	opOp
	opHold
	nOpLatencies
)

var opLatencies = [nOpLatencies]struct {
	name  string
	field func(*results.Operation) *results.Latency
}{
	opAcquire: {"acquire", func(o *results.Operation) *results.Latency { return &o.Acquire }},
	opQuery:   {"query", func(o *results.Operation) *results.Latency { return &o.Query }},
	opOp:      {"op", func(o *results.Operation) *results.Latency { return &o.Op }},
	opHold:    {"hold", func(o *results.Operation) *results.Latency { return &o.Hold }},
}

// Scenario-wide counters, indexes of counters.
const (
	cOps = iota
	cErrors
	cCancelled
	cArrivals
	cDropped
	nCounters
)

var counters = [nCounters]struct {
	name  string
	field func(*results.Scenario) *int64
}{
	cOps:       {"ops", func(s *results.Scenario) *int64 { return &s.Ops }},
	cErrors:    {"errors", func(s *results.Scenario) *int64 { return &s.Errors }},
	cCancelled: {"cancelled", func(s *results.Scenario) *int64 { return &s.Cancelled }},
	cArrivals:  {"arrivals", func(s *results.Scenario) *int64 { return &s.Arrivals }},
	cDropped:   {"dropped", func(s *results.Scenario) *int64 { return &s.Dropped }},
}

// Per-operation counters, indexes of opCounters.
const (
	oOps = iota
	oErrors
	nOpCounters
)

var opCounters = [nOpCounters]struct {
	name  string
	field func(*results.Operation) *int64
}{
	oOps:    {"ops", func(o *results.Operation) *int64 { return &o.Ops }},
	oErrors: {"errors", func(o *results.Operation) *int64 { return &o.Errors }},
}

// nCategories is len(results.ErrorCategories) (checked at init).
const nCategories = 12

func init() {
	if len(results.ErrorCategories) != nCategories {
		panic(fmt.Sprintf("tally: nCategories is %d, results.ErrorCategories has %d", nCategories, len(results.ErrorCategories)))
	}
}

// Category returns the index of error category name in
// results.ErrorCategories, -1 for an unknown one.
func Category(name string) int {
	for i, c := range results.ErrorCategories {
		if c == name {
			return i
		}
	}
	return -1
}

// Cancelled and Dropped are the indexes of results.ErrCancelled (an
// operation cut short by a stop, counted apart from ops and errors) and
// results.ErrDropped (an open model's arrival never run).
var (
	Cancelled = Category(results.ErrCancelled)
	Dropped   = Category(results.ErrDropped)
)

// Result is what one operation measured. A zero duration means the phase
// did not run.
type Result struct {
	Op       int // index in the scenario's mix
	Acquire  time.Duration
	Acquired bool
	// Queries are the first NQueries statement times; more are recorded
	// with AddQuery.
	Queries  [8]time.Duration
	NQueries int
	Hold     time.Duration
	Total    time.Duration
	Category int // index in results.ErrorCategories; -1 when the operation succeeded
	// Lag is an open-model operation's actual start minus its scheduled
	// start (Scheduled set); Total then runs from the scheduled start.
	Lag       time.Duration
	Scheduled bool
	// Request marks an HTTP request to the service under test: it has no
	// acquire, and Total is its response time.
	Request bool
}

// Op names one operation of a scenario's mix.
type Op struct {
	Name   string
	Weight float64
}

// latency is one latency figure: its histogram, and when it was decoded
// from saved summaries (FromScenario), those summaries, for their
// conservative combination when one of them carries no histogram.
type latency struct {
	h     *hdrhistogram.Histogram // nil: no value recorded yet
	saved []results.Latency       // the saved summaries of values (FromScenario)
	lossy bool                    // a saved summary carries no histogram: h is dropped
}

func (l *latency) record(d time.Duration) {
	v := min(max(int64(d), 0), Highest)
	_ = l.h.RecordValue(v) // cannot fail within the clamped range
}

func (l *latency) reset() {
	if l.h != nil {
		l.h.Reset()
	}
	l.saved, l.lossy = nil, false
}

func (l *latency) merge(from *latency) error {
	l.saved = append(l.saved, from.saved...)
	if l.lossy = l.lossy || from.lossy; l.lossy {
		l.h = nil
		return nil
	}
	switch {
	case from.h == nil || from.h.TotalCount() == 0:
	case l.h == nil:
		l.h = hdrhistogram.Import(from.h.Export())
	default:
		return hdr.Add(l.h, from.h)
	}
	return nil
}

// decode reads a saved summary.
func (l *latency) decode(s results.Latency) error {
	if s.Count == 0 {
		return nil
	}
	h := s.Histogram
	s.Histogram = "" // Bound reads the figures only
	l.saved = append(l.saved, s)
	if h == "" {
		l.lossy, l.h = true, nil
		return nil
	}
	s.Histogram = h
	hist, err := hdr.Decode(s)
	if err != nil {
		return err
	}
	return l.take(&latency{h: hist})
}

// take merges from, which nothing else uses, into l: from's histogram
// becomes l's when l has none.
func (l *latency) take(from *latency) error {
	if l.h == nil && !l.lossy && !from.lossy {
		l.h = from.h
		l.saved = append(l.saved, from.saved...)
		return nil
	}
	return l.merge(from)
}

// summary is the figure: the histogram's summary (with it encoded when
// encode), or the conservative combination of the saved summaries when one
// of them carries no histogram (hdr.Bound).
func (l *latency) summary(encode bool) results.Latency {
	switch {
	case l.lossy:
		return hdr.Bound(l.saved...)
	case encode:
		return hdr.Summarize(l.h)
	}
	return hdr.Figures(l.h)
}

// operation is what one operation of the mix recorded.
type operation struct {
	Op
	lat [nOpLatencies]latency
	n   [nOpCounters]int64
}

// Scenario accumulates one scenario's operation measurements. Its methods
// are not safe for concurrent use: the engine guards each recorder's with
// a lock.
type Scenario struct {
	lat      [nLatencies]latency
	ops      []operation // in mix order (merge: the first segment's, then new names)
	n        [nCounters]int64
	errorsBy [nCategories]int64 // by index in results.ErrorCategories
	// otherErrors are errors_by keys of a saved scenario that are not
	// planrun's categories.
	otherErrors map[string]int64
}

// New returns an empty tally for a mix of ops. Its recorded histograms
// exist from the start so that Add never allocates; open: an open model's,
// which records start lag.
func New(ops []Op, open bool) *Scenario {
	s := &Scenario{ops: make([]operation, len(ops))}
	for i, f := range latencies {
		if f.recorded || (i == latLag && open) {
			s.lat[i].h = hdrhistogram.New(Lowest, Highest, SigFigs)
		}
	}
	for i := range s.ops {
		s.ops[i].Op = ops[i]
		for k := range s.ops[i].lat {
			s.ops[i].lat[k].h = hdrhistogram.New(Lowest, Highest, OpSigFigs)
		}
	}
	return s
}

// Add records one operation. It does not allocate. An operation cut short
// by a stop (Cancelled) is only counted as cancelled: its partial timings
// describe the stop, not the pool. A dropped arrival (Dropped) counts as an
// operation and an error, with no timings.
func (s *Scenario) Add(r *Result) {
	if r.Category == Cancelled {
		s.n[cCancelled]++
		return
	}
	o := &s.ops[r.Op]
	s.n[cOps]++
	o.n[oOps]++
	if r.Category >= 0 {
		s.n[cErrors]++
		o.n[oErrors]++
		s.errorsBy[r.Category]++
	}
	if r.Category == Dropped { // never ran: no timings
		s.n[cDropped]++
		return
	}
	if r.Scheduled && s.lat[latLag].h != nil {
		s.lat[latLag].record(r.Lag)
	}
	if r.Acquired || r.Acquire > 0 { // else no acquire was tried: the args failed first
		s.lat[latAcquire].record(r.Acquire)
		o.lat[opAcquire].record(r.Acquire)
	}
	for i := 0; i < r.NQueries; i++ {
		s.lat[latQuery].record(r.Queries[i])
		o.lat[opQuery].record(r.Queries[i])
	}
	if r.Acquired {
		s.lat[latHold].record(r.Hold)
		o.lat[opHold].record(r.Hold)
	}
	s.lat[latOp].record(r.Total)
	o.lat[opOp].record(r.Total)
}

// AddQuery records a statement time of operation op that did not fit in
// Result.Queries.
func (s *Scenario) AddQuery(op int, d time.Duration) {
	s.lat[latQuery].record(d)
	s.ops[op].lat[opQuery].record(d)
}

// AddArrival counts one scheduled arrival of an open model.
func (s *Scenario) AddArrival() { s.n[cArrivals]++ }

// AddSampleLag records how late a pool sample came (generator_lag). The
// first call allocates its histogram.
func (s *Scenario) AddSampleLag(d time.Duration) {
	l := &s.lat[latGeneratorLag]
	if l.h == nil {
		l.h = hdrhistogram.New(Lowest, Highest, SigFigs)
	}
	l.record(d)
}

// Empty reports whether nothing was recorded.
func (s *Scenario) Empty() bool {
	return s.n[cOps] == 0 && s.n[cCancelled] == 0 && s.n[cArrivals] == 0 && s.lat[latQuery].count() == 0
}

func (l *latency) count() int64 {
	if l.h == nil {
		return 0
	}
	return l.h.TotalCount()
}

// Reset forgets everything recorded; the histograms are kept for reuse.
func (s *Scenario) Reset() {
	for i := range s.lat {
		s.lat[i].reset()
	}
	for i := range s.ops {
		o := &s.ops[i]
		for k := range o.lat {
			o.lat[k].reset()
		}
		o.n = [nOpCounters]int64{}
	}
	s.n = [nCounters]int64{}
	s.errorsBy = [nCategories]int64{}
	s.otherErrors = nil
}

// OverflowError is a count whose sum does not fit in an int64: such a
// merge is refused, never wrapped around to a negative count.
type OverflowError struct {
	Field    string // e.g. "ops", "errors_by.query", "operation read: ops"
	Sum, Add int64  // the sum so far, and what was added to it
}

func (e *OverflowError) Error() string {
	return fmt.Sprintf("%s: %d added to %d goes past %d", e.Field, e.Add, e.Sum, int64(math.MaxInt64))
}

// AddChecked returns a + b and whether it fits in an int64; when it does
// not, the sum saturates at math.MaxInt64 or math.MinInt64.
func AddChecked(a, b int64) (int64, bool) {
	sum := a + b
	switch {
	case a > 0 && b > 0 && sum < 0:
		return math.MaxInt64, false
	case a < 0 && b < 0 && sum >= 0:
		return math.MinInt64, false
	}
	return sum, true
}

// Merge adds what from recorded into s: counts summed, histograms merged.
// Operations are matched by name; one s does not have is added after its
// own. It fails when a count would go past math.MaxInt64 (an
// *OverflowError; the count saturates) or when a histogram holds values
// outside s's range; the first failure is returned, and s is then partly
// merged. from is unchanged.
func (s *Scenario) Merge(from *Scenario) error {
	var first error
	sum := func(field func() string, dst *int64, n int64) {
		v, ok := AddChecked(*dst, n)
		if !ok && first == nil {
			first = &OverflowError{Field: field(), Sum: *dst, Add: n}
		}
		*dst = v
	}
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for i := range s.n {
		sum(func() string { return counters[i].name }, &s.n[i], from.n[i])
	}
	for i := range s.errorsBy {
		sum(func() string { return "errors_by." + results.ErrorCategories[i] }, &s.errorsBy[i], from.errorsBy[i])
	}
	for k, n := range from.otherErrors {
		if s.otherErrors == nil {
			s.otherErrors = map[string]int64{}
		}
		v := s.otherErrors[k]
		sum(func() string { return "errors_by." + k }, &v, n)
		s.otherErrors[k] = v
	}
	for i := range s.lat {
		if err := s.lat[i].merge(&from.lat[i]); err != nil {
			note(fmt.Errorf("%s: %w", latencies[i].name, err))
		}
	}
	for i := range from.ops {
		f := &from.ops[i]
		o := s.op(i, f.Op)
		for k := range o.n {
			sum(func() string { return "operation " + f.Name + ": " + opCounters[k].name }, &o.n[k], f.n[k])
		}
		for k := range o.lat {
			if err := o.lat[k].merge(&f.lat[k]); err != nil {
				note(fmt.Errorf("operation %s: %s: %w", f.Name, opLatencies[k].name, err))
			}
		}
	}
	return first
}

// op returns s's operation named like op, the i-th of another tally:
// s's i-th when it has that name (tallies of one mix), else the one of
// that name, else a new one appended.
func (s *Scenario) op(i int, op Op) *operation {
	if i < len(s.ops) && s.ops[i].Name == op.Name {
		return &s.ops[i]
	}
	for k := range s.ops {
		if s.ops[k].Name == op.Name {
			return &s.ops[k]
		}
	}
	s.ops = append(s.ops, operation{Op: op})
	return &s.ops[len(s.ops)-1]
}

// FromScenario decodes the operation measurements of a saved scenario:
// its counters, errors by category and latency histograms, scenario-wide
// and per operation (two operations of one name are merged). A latency
// summary without a histogram (an older report) is kept as a summary: the
// figure is then combined conservatively (hdr.Bound). It fails when a
// histogram cannot be decoded, naming the figure.
func FromScenario(sc *results.Scenario) (*Scenario, error) {
	s := &Scenario{}
	for i, f := range counters {
		s.n[i] = *f.field(sc)
	}
	for k, n := range sc.ErrorsBy {
		if i := Category(k); i >= 0 {
			s.errorsBy[i] = n
			continue
		}
		if s.otherErrors == nil {
			s.otherErrors = map[string]int64{}
		}
		s.otherErrors[k] = n
	}
	for i, f := range latencies {
		if err := s.lat[i].decode(*f.field(sc)); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for i := range sc.Operations {
		so := &sc.Operations[i]
		o := s.op(len(s.ops), Op{Name: so.Name, Weight: so.Weight})
		for k, f := range opCounters {
			n, ok := AddChecked(o.n[k], *f.field(so))
			if !ok {
				return nil, &OverflowError{Field: "operation " + so.Name + ": " + f.name, Sum: o.n[k], Add: *f.field(so)}
			}
			o.n[k] = n
		}
		for k, f := range opLatencies {
			var l latency
			err := l.decode(*f.field(so))
			if err == nil {
				err = o.lat[k].take(&l)
			}
			if err != nil {
				return nil, fmt.Errorf("operation %s: %s: %w", so.Name, f.name, err)
			}
		}
	}
	return s, nil
}

// Summary writes the figures into out, measured being the scenario's
// time after the warm-up: ops, errors, cancelled, arrivals, dropped,
// success rate, throughput (successful operations per measured second; 0
// when nothing was measured), errors by category (added to out.ErrorsBy),
// every latency (its histogram encoded when encode; a live partial does
// without), and out.Operations (replaced) with each one's share of the
// operations.
func (s *Scenario) Summary(out *results.Scenario, measured time.Duration, encode bool) {
	for i, f := range counters {
		*f.field(out) = s.n[i]
	}
	ops, errs := s.n[cOps], s.n[cErrors]
	out.SuccessRate = results.SuccessRate(ops, errs)
	out.Throughput = 0
	if measured > 0 {
		out.Throughput = float64(ops-errs) / measured.Seconds()
	}
	for i, n := range s.errorsBy {
		if n > 0 {
			if out.ErrorsBy == nil {
				out.ErrorsBy = map[string]int64{}
			}
			out.ErrorsBy[results.ErrorCategories[i]] = n
		}
	}
	for k, n := range s.otherErrors {
		if out.ErrorsBy == nil {
			out.ErrorsBy = map[string]int64{}
		}
		out.ErrorsBy[k] = n
	}
	for i, f := range latencies {
		*f.field(out) = s.lat[i].summary(encode)
	}
	out.Operations = out.Operations[:0]
	for i := range s.ops {
		o := &s.ops[i]
		r := results.Operation{Name: o.Name, Weight: o.Weight}
		for k, f := range opCounters {
			*f.field(&r) = o.n[k]
		}
		r.SuccessRate = results.SuccessRate(r.Ops, r.Errors)
		if ops > 0 {
			r.Share = float64(r.Ops) / float64(ops)
		}
		for k, f := range opLatencies {
			*f.field(&r) = o.lat[k].summary(encode)
		}
		out.Operations = append(out.Operations, r)
	}
}

// Point writes the operation figures of one series step into p: ops,
// errors, acquire p50/p95/p99, query p95 and op p95.
func (s *Scenario) Point(p *results.Point) {
	p.Ops, p.Errors = s.n[cOps], s.n[cErrors]
	p.AcquireP50 = s.lat[latAcquire].quantile(50)
	p.AcquireP95 = s.lat[latAcquire].quantile(95)
	p.AcquireP99 = s.lat[latAcquire].quantile(99)
	p.QueryP95 = s.lat[latQuery].quantile(95)
	p.OpP95 = s.lat[latOp].quantile(95)
}

// quantile is a percentile (0..100) as a duration; 0 with no values.
func (l *latency) quantile(q float64) time.Duration {
	if l.count() == 0 {
		return 0
	}
	return time.Duration(l.h.ValueAtQuantile(q))
}

// Dropped is the count of dropped arrivals.
func (s *Scenario) Dropped() int64 { return s.n[cDropped] }

// Histograms returns operation i's acquire, query and op histograms, for
// a live sink that reads them (they stay s's: a sink copies what it keeps).
func (s *Scenario) Histograms(i int) (acquire, query, op *hdrhistogram.Histogram) {
	o := &s.ops[i]
	return o.lat[opAcquire].h, o.lat[opQuery].h, o.lat[opOp].h
}
