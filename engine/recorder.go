package engine

import (
	"runtime"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/results"
)

// Histogram bounds: nanoseconds from 1 µs resolution up to one hour, 3
// significant figures. Values above the top are clamped to it.
const (
	histLowest  = 1000
	histHighest = int64(time.Hour)
	histSigFigs = 3
	// Per-operation histograms are smaller: 2 significant figures.
	opHistSigFigs = 2
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

func newOpHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, opHistSigFigs)
}

func record(h *hdrhistogram.Histogram, d time.Duration) {
	v := int64(d)
	if v > histHighest {
		v = histHighest
	}
	if v < 0 {
		v = 0
	}
	_ = h.RecordValue(v) // cannot fail within the clamped range
}

// categoryIndex indexes results.ErrorCategories.
var categoryIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range results.ErrorCategories {
		m[c] = i
	}
	return m
}()

// cancelledCategory is the index of results.ErrCancelled: operations cut
// short by a stop, counted apart from Ops and Errors.
var cancelledCategory = categoryIndex[results.ErrCancelled]

// maxLeakDetails bounds the leak descriptions kept per scenario.
const maxLeakDetails = 20

// shardsPerProc is how many recorders a scenario has per GOMAXPROCS: enough
// that two running users rarely share one.
const shardsPerProc = 4

// recorderCount is the number of recorders of a scenario of at most
// maxUsers users: one per user up to shardsPerProc × GOMAXPROCS, so memory
// follows the machine's concurrency, not the number of users.
func recorderCount(maxUsers int) int {
	return max(1, min(maxUsers, shardsPerProc*runtime.GOMAXPROCS(0)))
}

// opWindow is what one operation of the mix recorded.
type opWindow struct {
	acquire, query, op *hdrhistogram.Histogram
	ops, errors        int64
}

// window is what a recorder recorded since the collector last took it. Two
// windows per recorder are swapped by the collector, so the recorder's lock
// is held for a pointer swap only, never for a merge.
type window struct {
	acquire, query, op, hold *hdrhistogram.Histogram
	perOp                    []opWindow // by operation index
	ops, errors, cancelled   int64
	errorsBy                 [8]int64 // by categoryIndex
	// An open model's: start lag (nil for a closed model, whose windows
	// do without), scheduled arrivals and dropped ones (also in ops).
	startLag          *hdrhistogram.Histogram
	arrivals, dropped int64
}

func newWindow(nOps int) *window {
	w := &window{acquire: newHist(), query: newHist(), op: newHist(), hold: newHist(), perOp: make([]opWindow, nOps)}
	for i := range w.perOp {
		w.perOp[i] = opWindow{acquire: newOpHist(), query: newOpHist(), op: newOpHist()}
	}
	return w
}

// empty reports whether nothing was recorded into w.
func (w *window) empty() bool {
	return w.ops == 0 && w.cancelled == 0 && w.arrivals == 0 && w.query.TotalCount() == 0
}

func (w *window) reset() {
	w.acquire.Reset()
	w.query.Reset()
	w.op.Reset()
	w.hold.Reset()
	for i := range w.perOp {
		o := &w.perOp[i]
		o.acquire.Reset()
		o.query.Reset()
		o.op.Reset()
		o.ops, o.errors = 0, 0
	}
	w.ops, w.errors, w.cancelled = 0, 0, 0
	w.errorsBy = [8]int64{}
	w.arrivals, w.dropped = 0, 0
	if w.startLag != nil {
		w.startLag.Reset()
	}
}

func (w *window) merge(from *window) {
	w.acquire.Merge(from.acquire)
	w.query.Merge(from.query)
	w.op.Merge(from.op)
	w.hold.Merge(from.hold)
	for i := range w.perOp {
		o, f := &w.perOp[i], &from.perOp[i]
		o.acquire.Merge(f.acquire)
		o.query.Merge(f.query)
		o.op.Merge(f.op)
		o.ops += f.ops
		o.errors += f.errors
	}
	w.ops += from.ops
	w.errors += from.errors
	w.cancelled += from.cancelled
	for i := range w.errorsBy {
		w.errorsBy[i] += from.errorsBy[i]
	}
	w.arrivals += from.arrivals
	w.dropped += from.dropped
	if w.startLag != nil && from.startLag != nil {
		w.startLag.Merge(from.startLag)
	}
}

// rare is what a recorder noted besides the histograms: first error
// messages, SQLSTATE counts and leaks.
type rare struct {
	samples   map[string]string // first message per category
	sqlstates map[string]int64
	leaks     []results.Leak // at most maxLeakDetails
	leakCount int
}

// recorder is one shard of a scenario's measurements. Several users record
// into one recorder (user id modulo the recorder count); its lock is held for
// the few counter and histogram updates of one operation, so users on
// different recorders never contend, and the collector only swaps windows.
type recorder struct {
	mu   sync.Mutex
	cur  *window
	rare rare
	// tick counts what the recovery measure reads since the last pool sample.
	tick tick
	slow time.Duration
}

// newRecorder returns a recorder for a mix of nOps operations; acquires
// longer than slow count as slow for the recovery measure.
func newRecorder(nOps int, slow time.Duration) *recorder {
	return &recorder{cur: newWindow(nOps), slow: slow}
}

// opResult is what one operation measured. A zero duration means the phase did not run.
type opResult struct {
	op       int
	acquire  time.Duration
	acquired bool
	queries  [8]time.Duration
	nQueries int
	hold     time.Duration
	total    time.Duration
	category int // -1 when the operation succeeded
	// lag is an open-model operation's actual start minus its scheduled
	// start (scheduled set); total then runs from the scheduled start.
	lag       time.Duration
	scheduled bool
}

// add records one operation. It takes only this recorder's lock and does
// not allocate. An operation cut short by a stop is only counted as
// cancelled: its partial timings describe the stop, not the pool.
func (r *recorder) add(res *opResult) {
	r.mu.Lock()
	w := r.cur
	if res.category == cancelledCategory {
		w.cancelled++
		r.mu.Unlock()
		return
	}
	o := &w.perOp[res.op]
	if res.category == droppedCategory { // never ran: no timings
		w.ops++
		o.ops++
		w.errors++
		o.errors++
		w.errorsBy[res.category]++
		w.dropped++
		r.tick.ops++
		r.tick.failed++
		r.mu.Unlock()
		return
	}
	if res.scheduled && w.startLag != nil {
		record(w.startLag, res.lag)
	}
	if res.acquired || res.acquire > 0 { // else no acquire was tried: the args failed first
		record(w.acquire, res.acquire)
		record(o.acquire, res.acquire)
		r.tick.acquires++
		if res.acquire > r.slow {
			r.tick.slow++
		}
	}
	for i := 0; i < res.nQueries; i++ {
		record(w.query, res.queries[i])
		record(o.query, res.queries[i])
	}
	if res.acquired {
		record(w.hold, res.hold)
	}
	record(w.op, res.total)
	record(o.op, res.total)
	w.ops++
	o.ops++
	r.tick.ops++
	if res.category >= 0 {
		r.tick.failed++
		w.errors++
		w.errorsBy[res.category]++
		o.errors++
	}
	r.mu.Unlock()
}

// addQuery records a statement time of operation op that did not fit in opResult.
func (r *recorder) addQuery(op int, d time.Duration) {
	r.mu.Lock()
	record(r.cur.query, d)
	record(r.cur.perOp[op].query, d)
	r.mu.Unlock()
}

// noteError keeps the first message of a category and counts SQLSTATEs.
func (r *recorder) noteError(category, sqlstate, msg string) {
	r.mu.Lock()
	if r.rare.samples == nil {
		r.rare.samples = map[string]string{}
	}
	if _, ok := r.rare.samples[category]; !ok {
		r.rare.samples[category] = msg
	}
	if sqlstate != "" {
		if r.rare.sqlstates == nil {
			r.rare.sqlstates = map[string]int64{}
		}
		r.rare.sqlstates[sqlstate]++
	}
	r.mu.Unlock()
}

func (r *recorder) noteLeak(l results.Leak) {
	r.mu.Lock()
	r.rare.leakCount++
	if len(r.rare.leaks) < maxLeakDetails {
		r.rare.leaks = append(r.rare.leaks, l)
	}
	r.mu.Unlock()
}

// swap hands the current window to the collector and installs spare (reset).
func (r *recorder) swap(spare *window) *window {
	r.mu.Lock()
	w := r.cur
	r.cur = spare
	r.mu.Unlock()
	return w
}

// takeTick returns the acquires completed since the last call and how many
// of them were slow.
func (r *recorder) takeTick() tick {
	r.mu.Lock()
	t := r.tick
	r.tick = tick{}
	r.mu.Unlock()
	return t
}

// tick is what one sample interval holds for the recovery measure: the
// acquires completed in it and how many of them waited longer than the
// recovery threshold, the operations that ended in it and how many failed.
type tick struct {
	acquires, slow, ops, failed int64
}

// add sums u into t.
func (t *tick) add(u tick) {
	t.acquires += u.acquires
	t.slow += u.slow
	t.ops += u.ops
	t.failed += u.failed
}

// takeRare returns what was noted since the last call and forgets it.
func (r *recorder) takeRare() rare {
	r.mu.Lock()
	out := r.rare
	r.rare = rare{}
	r.mu.Unlock()
	return out
}
