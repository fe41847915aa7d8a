package engine

import (
	"runtime"
	"sync"
	"time"

	"github.com/planrun/planrun/engine/measure"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

// opResult is what one operation measured (see tally.Result).
type opResult = tally.Result

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
// different recorders never contend. The collector swaps its tally for a
// spare one (two per recorder), so the lock is held for a pointer swap
// only, never for a merge.
type recorder struct {
	mu   sync.Mutex
	cur  *tally.Scenario
	rare rare
	// tick counts what the recovery measure reads since the last pool sample.
	tick measure.Tick
	slow time.Duration
}

// newRecorder returns a recorder into cur; acquires longer than slow
// count as slow for the recovery measure.
func newRecorder(cur *tally.Scenario, slow time.Duration) *recorder {
	return &recorder{cur: cur, slow: slow}
}

// add records one operation, and counts it for the recovery measure. It
// takes only this recorder's lock and does not allocate.
func (r *recorder) add(res *opResult) {
	r.mu.Lock()
	r.cur.Add(res)
	r.tick.Note(res, r.slow)
	r.mu.Unlock()
}

// addQuery records a statement time of operation op that did not fit in opResult.
func (r *recorder) addQuery(op int, d time.Duration) {
	r.mu.Lock()
	r.cur.AddQuery(op, d)
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

// swap hands the current tally to the collector and installs spare (reset).
func (r *recorder) swap(spare *tally.Scenario) *tally.Scenario {
	r.mu.Lock()
	w := r.cur
	r.cur = spare
	r.mu.Unlock()
	return w
}

// takeTick returns the acquires completed since the last call and how many
// of them were slow.
func (r *recorder) takeTick() measure.Tick {
	r.mu.Lock()
	t := r.tick
	r.tick = measure.Tick{}
	r.mu.Unlock()
	return t
}

// takeRare returns what was noted since the last call and forgets it.
func (r *recorder) takeRare() rare {
	r.mu.Lock()
	out := r.rare
	r.rare = rare{}
	r.mu.Unlock()
	return out
}
