package engine

import (
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

// categories indexes results.ErrorCategories.
var categoryIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range results.ErrorCategories {
		m[c] = i
	}
	return m
}()

// maxLeakDetails bounds the leak descriptions kept per scenario.
const maxLeakDetails = 20

// window is what one user recorded since the collector last took it. Two
// windows per user are swapped by the collector, so the user's lock is held
// for a pointer swap only, never for a merge.
type window struct {
	acquire, query, op, hold *hdrhistogram.Histogram
	opHists                  []*hdrhistogram.Histogram // per operation index
	opCounts, opErrors       []int64                   // per operation index
	ops, errors              int64
	errorsBy                 [8]int64 // by categoryIndex
}

func newWindow(nOps int) *window {
	w := &window{
		acquire: newHist(), query: newHist(), op: newHist(), hold: newHist(),
		opCounts: make([]int64, nOps), opErrors: make([]int64, nOps),
	}
	for range nOps {
		w.opHists = append(w.opHists, newOpHist())
	}
	return w
}

func (w *window) reset() {
	w.acquire.Reset()
	w.query.Reset()
	w.op.Reset()
	w.hold.Reset()
	for i := range w.opHists {
		w.opHists[i].Reset()
		w.opCounts[i], w.opErrors[i] = 0, 0
	}
	w.ops, w.errors = 0, 0
	w.errorsBy = [8]int64{}
}

// recorder is one user's measurement sink. Only its user writes to it and only
// the collector swaps its window: the lock is never shared between users.
type recorder struct {
	mu  sync.Mutex
	cur *window
	// rare events, under mu too
	samples   map[string]string // first message per category
	sqlstates map[string]int64
	leaks     []results.Leak
	leakCount int
	// Acquires completed since the last pool sample, and how many of them
	// waited longer than slow (the scenario's recovery threshold).
	tickAcquires, tickSlow int64
	slow                   time.Duration
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
}

// add records one operation. It takes only this user's lock and does not allocate.
func (r *recorder) add(res *opResult) {
	r.mu.Lock()
	w := r.cur
	record(w.acquire, res.acquire)
	r.tickAcquires++
	if res.acquire > r.slow {
		r.tickSlow++
	}
	for i := 0; i < res.nQueries; i++ {
		record(w.query, res.queries[i])
	}
	if res.acquired {
		record(w.hold, res.hold)
	}
	record(w.op, res.total)
	record(w.opHists[res.op], res.total)
	w.ops++
	w.opCounts[res.op]++
	if res.category >= 0 {
		w.errors++
		w.errorsBy[res.category]++
		w.opErrors[res.op]++
	}
	r.mu.Unlock()
}

// addQuery records statement times of an operation that has more than fit in opResult.
func (r *recorder) addQuery(d time.Duration) {
	r.mu.Lock()
	record(r.cur.query, d)
	r.mu.Unlock()
}

// noteError keeps the first message of a category and counts SQLSTATEs.
func (r *recorder) noteError(category, sqlstate, msg string) {
	r.mu.Lock()
	if r.samples == nil {
		r.samples = map[string]string{}
	}
	if _, ok := r.samples[category]; !ok {
		r.samples[category] = msg
	}
	if sqlstate != "" {
		if r.sqlstates == nil {
			r.sqlstates = map[string]int64{}
		}
		r.sqlstates[sqlstate]++
	}
	r.mu.Unlock()
}

func (r *recorder) noteLeak(l results.Leak) {
	r.mu.Lock()
	r.leakCount++
	if len(r.leaks) < maxLeakDetails {
		r.leaks = append(r.leaks, l)
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
