package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
)

// plainEvery is how often progress is printed when stderr is not a terminal (CI logs).
const plainEvery = 10 * time.Second

// progressPrinter prints live progress: on a terminal one refreshing line per
// second, otherwise a plain line every plainEvery.
type progressPrinter struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	last time.Time
	name string
}

func newProgressPrinter(w io.Writer, tty bool) *progressPrinter {
	return &progressPrinter{w: w, tty: tty}
}

func (p *progressPrinter) print(pr engine.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := progressLine(pr)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	if pr.Scenario != p.name || time.Since(p.last) >= plainEvery {
		p.name, p.last = pr.Scenario, time.Now()
		fmt.Fprintln(p.w, line)
	}
}

// progressLine renders e.g.
// `normal 02:41/05:00  users 25/25  1,234 ops/s  acquire p95 1.2ms  pool 18/50 (in use 12, waiting 0)  errors 0`;
// the scenario's name on one line with its control characters escaped
// ([printable.Line]).
//
// An open-model scenario shows its achieved and target rates and its
// operations in flight instead of users:
// `surge 00:41/02:00  rate 396/400/s  in flight 12/10,000  ...`.
func progressLine(pr engine.Progress) string {
	if pr.Open {
		return fmt.Sprintf("%s %s/%s  rate %s/%s/s  in flight %s/%s  acquire p95 %s  pool %d/%d (in use %d, waiting %d)  errors %s",
			printable.Line(pr.Scenario), clock(pr.Elapsed), clock(pr.Planned),
			humanize.Int(int64(pr.AchievedRate+0.5)), humanize.Int(int64(pr.TargetRate+0.5)),
			humanize.Int(int64(pr.InFlight)), humanize.Int(int64(pr.MaxUsers)), humanize.Duration(pr.AcquireP95),
			pr.Total, pr.Capacity, pr.InUse, pr.Waiting, humanize.Int(pr.Errors))
	}
	return fmt.Sprintf("%s %s/%s  users %d/%d  %s ops/s  acquire p95 %s  pool %d/%d (in use %d, waiting %d)  errors %s",
		printable.Line(pr.Scenario), clock(pr.Elapsed), clock(pr.Planned), pr.Users, pr.MaxUsers,
		humanize.Int(int64(pr.OpsPerSec+0.5)), humanize.Duration(pr.AcquireP95),
		pr.Total, pr.Capacity, pr.InUse, pr.Waiting, humanize.Int(pr.Errors))
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
