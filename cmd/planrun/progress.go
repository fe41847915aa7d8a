package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// plainEvery is how often progress is printed when stderr is not a terminal (CI logs).
const plainEvery = 10 * time.Second

// progressPrinter prints live progress: on a terminal one refreshing line per
// second, otherwise a plain line every plainEvery. It is a sink of the run's
// live stream ([live.Sink]); the final snapshot of a scenario prints nothing.
type progressPrinter struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	last time.Time
	name string
	// index and errors are the scenario being shown and its errors so far,
	// warm-up included: the sum of its points'.
	index  int
	errors int64
}

var (
	_ live.Sink            = (*progressPrinter)(nil)
	_ live.GeneratorReader = (*progressPrinter)(nil)
)

func newProgressPrinter(w io.Writer, tty bool) *progressPrinter {
	return &progressPrinter{w: w, tty: tty}
}

// Live prints s's line (see progressLine). It never stops the scenario.
func (p *progressPrinter) Live(s *live.Snapshot) *results.Outcome {
	if s.Final {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Index != p.index {
		p.index, p.errors = s.Index, 0
	}
	p.errors += s.Point.Errors
	line := progressLine(s, p.errors)
	name := s.Scenario.Name
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return nil
	}
	if name != p.name || time.Since(p.last) >= plainEvery {
		p.name, p.last = name, time.Now()
		fmt.Fprintln(p.w, line)
	}
	return nil
}

// ReadsGenerator is false: the line shows no generator figure
// ([live.GeneratorReader]).
func (p *progressPrinter) ReadsGenerator() bool { return false }

// progressLine renders e.g.
// `normal 02:41/05:00  users 25/25  1,234 ops/s  acquire p95 1.2ms  pool 18/50 (in use 12, waiting 0)  errors 0`;
// the scenario's name on one line with its control characters escaped
// ([printable.Line]). The rate and acquire p95 are the last series step's
// (s.Point, a second), errors those so far, warm-up included.
//
// An open-model scenario shows its achieved (dropped arrivals left out) and
// target rates and its operations in flight instead of users:
// `surge 00:41/02:00  rate 396/400/s  in flight 12/10,000  ...`.
func progressLine(s *live.Snapshot, errors int64) string {
	sc, pt, pool := s.Scenario, s.Point, s.Pool()
	if sc.Model == results.ModelOpen {
		return fmt.Sprintf("%s %s/%s  rate %s/%s/s  in flight %s/%s  acquire p95 %s  pool %d/%d (in use %d, waiting %d)  errors %s",
			printable.Line(sc.Name), clock(sc.Elapsed), clock(sc.Planned),
			humanize.Int(pt.Ops-s.Dropped), humanize.Int(int64(s.TargetRate+0.5)),
			humanize.Int(int64(s.Users)), humanize.Int(int64(s.MaxUsers)), humanize.Duration(pt.AcquireP95),
			pool.Open, pool.Capacity, pool.InUse, pool.Waiting, humanize.Int(errors))
	}
	return fmt.Sprintf("%s %s/%s  users %d/%d  %s ops/s  acquire p95 %s  pool %d/%d (in use %d, waiting %d)  errors %s",
		printable.Line(sc.Name), clock(sc.Elapsed), clock(sc.Planned), s.Users, s.MaxUsers,
		humanize.Int(pt.Ops), humanize.Duration(pt.AcquireP95),
		pool.Open, pool.Capacity, pool.InUse, pool.Waiting, humanize.Int(errors))
}
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
