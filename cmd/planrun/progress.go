package main

import (
	"fmt"
	"io"
	"strings"
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
//
// With target.service it adds the service's pool at the watcher's last
// sample (every 100 ms): `service in use 3/6`, with the oldest backend
// idle in transaction when there is one, `–/6` before the first sample.
// A scenario that sends only HTTP requests shows the requests' p95 and the
// service's pool in place of planrun's own, which takes no load there:
// `api 00:41/02:00  rate 50/50/s  in flight 3/10,000  request p95 27ms  service in use 3/6  errors 0`.
func progressLine(s *live.Snapshot, errors int64) string {
	sc, pt, pool := s.Scenario, s.Point, s.Pool()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s  ", printable.Line(sc.Name), clock(sc.Elapsed), clock(sc.Planned))
	if sc.Model == results.ModelOpen {
		fmt.Fprintf(&b, "rate %s/%s/s  in flight %s/%s",
			humanize.Int(pt.Ops-s.Dropped), humanize.Int(int64(s.TargetRate+0.5)),
			humanize.Int(int64(s.Users)), humanize.Int(int64(s.MaxUsers)))
	} else {
		fmt.Fprintf(&b, "users %d/%d  %s ops/s", s.Users, s.MaxUsers, humanize.Int(pt.Ops))
	}
	if sc.HTTPOnly {
		fmt.Fprintf(&b, "  request p95 %s", humanize.Duration(pt.OpP95))
	} else {
		fmt.Fprintf(&b, "  acquire p95 %s  pool %d/%d (in use %d, waiting %d)",
			humanize.Duration(pt.AcquireP95), pool.Open, pool.Capacity, pool.InUse, pool.Waiting)
	}
	if v := sc.Service; v != nil {
		b.WriteString("  " + serviceProgress(v))
	}
	b.WriteString("  errors " + humanize.Int(errors))
	return b.String()
}

// serviceProgress is the service's pool at its watcher's last sample:
// `service in use 3/6`, `service in use 6/6 (oldest idle in tx 1.2s)`, or
// `service in use –/6` before the first sample.
func serviceProgress(v *results.Service) string {
	if v.Last == nil {
		return fmt.Sprintf("service in use –/%d", v.Capacity)
	}
	out := fmt.Sprintf("service in use %d/%d", v.Last.InUse, v.Capacity)
	if d := v.Last.OldestIdleInTransaction; d > 0 {
		out += " (oldest idle in tx " + humanize.Duration(d) + ")"
	}
	return out
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
