package netproxy

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The proxy measures its own delivery lateness: for each chunk, how much
// later than its due time it began writing it to the other side, where
//
//	due = max(release, end of the stall it waited for, end of the previous write)
//	lateness = start of the write − due
//
// release is the instant its latency, jitter and bandwidth scheduled. A
// stall (SetStalled) and a receiver that does not read (a write blocked on
// a full socket buffer) are part of what is simulated or of the other
// side, not the proxy's lateness, hence the two other terms. What remains
// is the time the proxy's own threads waited for a CPU, for the clock's
// wake-up (and its writes of other chunks due before) and for the Go
// scheduler: on an idle Linux machine tens of microseconds, on a busy one
// milliseconds. A chunk written at once by its reader (due on arrival,
// nothing queued) counts with lateness ≈ 0.
//
// Lateness is recorded per chunk and direction into one histogram per
// connection, under that connection's own lock (its two directions share
// it; no lock is shared between connections while data flows). Lateness
// and TakeLateness merge them on demand; a connection's histogram is
// merged into the proxy's retired histogram when the connection ends.

const (
	// LatenessMax is the largest lateness recorded as itself; a longer one
	// is recorded as LatenessMax.
	LatenessMax = time.Minute
	// latenessSigFigs is the histograms' precision: 2 significant figures
	// (1 %), about 20 KB a connection.
	latenessSigFigs = 2
)

// newLatenessHist is an empty lateness histogram: microseconds, 1 µs to
// LatenessMax.
func newLatenessHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(LatenessMax/time.Microsecond), latenessSigFigs)
}

// lateness is one connection's recorder.
type lateness struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

// record adds one chunk's lateness d (negative counts as 0). It does not
// allocate.
func (l *lateness) record(d time.Duration) {
	us := min(max(d, 0), LatenessMax).Microseconds()
	l.mu.Lock()
	_ = l.h.RecordValue(us) // cannot fail within the clamped range
	l.mu.Unlock()
}

// latenesses is the proxy's set of recorders: those of open connections
// and the sum of those of ended ones.
type latenesses struct {
	mu      sync.Mutex
	live    map[*lateness]struct{}
	retired *hdrhistogram.Histogram
	free    []*lateness // ended recorders, reset, for new connections
}

func newLatenesses() *latenesses {
	return &latenesses{live: make(map[*lateness]struct{}), retired: newLatenessHist()}
}

// open returns a recorder for a new connection.
func (ls *latenesses) open() *lateness {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var l *lateness
	if n := len(ls.free); n > 0 {
		l, ls.free = ls.free[n-1], ls.free[:n-1]
	} else {
		l = &lateness{h: newLatenessHist()}
	}
	ls.live[l] = struct{}{}
	return l
}

// retire adds an ended connection's recorder, which nothing records into
// any more, to the retired histogram and keeps it for reuse.
func (ls *latenesses) retire(l *lateness) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	delete(ls.live, l)
	ls.retired.Merge(l.h)
	l.h.Reset()
	ls.free = append(ls.free, l)
}

// snapshot returns a new histogram of every lateness recorded since the
// last reset; with reset, it starts the next period.
func (ls *latenesses) snapshot(reset bool) *hdrhistogram.Histogram {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	sum := newLatenessHist()
	sum.Merge(ls.retired)
	if reset {
		ls.retired.Reset()
	}
	for l := range ls.live {
		l.mu.Lock()
		sum.Merge(l.h)
		if reset {
			l.h.Reset()
		}
		l.mu.Unlock()
	}
	return sum
}

// Lateness returns how late the proxy delivered each chunk (see the
// definition above) since Start or the last TakeLateness: a new histogram
// of microseconds, 1 µs to LatenessMax, 2 significant figures. Its count
// is the number of chunks delivered, in both directions.
func (p *Proxy) Lateness() *hdrhistogram.Histogram { return p.lat.snapshot(false) }

// TakeLateness is Lateness, and starts a new period: the next Lateness or
// TakeLateness counts only chunks delivered after it.
func (p *Proxy) TakeLateness() *hdrhistogram.Histogram { return p.lat.snapshot(true) }
