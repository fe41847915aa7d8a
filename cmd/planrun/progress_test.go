package main

import (
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// snapshot is a live snapshot of scenario name (position index) at elapsed,
// with one second's point of ops and errors.
func snapshot(name string, index int, elapsed time.Duration, ops, errors int64) *live.Snapshot {
	return &live.Snapshot{
		Scenario: &results.Scenario{Name: name, Model: results.ModelClosed, Elapsed: elapsed, Planned: 5 * time.Minute},
		Point:    results.Point{Ops: ops, Errors: errors, AcquireP95: 1200 * time.Microsecond},
		Index:    index, Count: 2,
		Users: 25, MaxUsers: 25,
		Pools: []live.Pool{
			{Replica: 1, Open: 10, InUse: 7, Idle: 3, Waiting: 0, Capacity: 25},
			{Replica: 2, Open: 8, InUse: 5, Idle: 3, Waiting: 0, Capacity: 25},
		},
	}
}

// TestProgressLine: the line of a closed and of an open scenario, the pools
// summed over replicas, the rate from the second's point.
func TestProgressLine(t *testing.T) {
	closed := snapshot("normal", 1, 161*time.Second, 1234, 0)
	if got, want := progressLine(closed, 0), "normal 02:41/05:00  users 25/25  1,234 ops/s  acquire p95 1.2ms  pool 18/50 (in use 12, waiting 0)  errors 0"; got != want {
		t.Errorf("closed:\n got %q\nwant %q", got, want)
	}

	open := snapshot("surge", 2, 41*time.Second, 400, 4)
	open.Scenario.Model, open.Scenario.Planned = results.ModelOpen, 2*time.Minute
	open.Users, open.MaxUsers, open.TargetRate, open.Dropped = 12, 10_000, 399.6, 4
	open.Pools[1].Waiting = 3
	if got, want := progressLine(open, 1234), "surge 00:41/02:00  rate 396/400/s  in flight 12/10,000  acquire p95 1.2ms  pool 18/50 (in use 12, waiting 3)  errors 1,234"; got != want {
		t.Errorf("open:\n got %q\nwant %q", got, want)
	}
}

// TestProgressLineService: with target.service the line adds the
// service's pool at the watcher's last sample; a scenario that sends only
// HTTP requests shows its requests' p95 and the service's pool in place of
// planrun's own, which took no load.
func TestProgressLineService(t *testing.T) {
	svc := &results.Service{Capacity: 6, Last: &results.ServiceSample{InUse: 3, Utilization: 0.5}}

	mixed := snapshot("mixed", 1, 161*time.Second, 1234, 0)
	mixed.Scenario.Service = svc
	if got, want := progressLine(mixed, 0), "mixed 02:41/05:00  users 25/25  1,234 ops/s  acquire p95 1.2ms  pool 18/50 (in use 12, waiting 0)  service in use 3/6  errors 0"; got != want {
		t.Errorf("mixed:\n got %q\nwant %q", got, want)
	}

	api := snapshot("api", 2, 41*time.Second, 50, 1)
	api.Scenario.Model, api.Scenario.Planned, api.Scenario.HTTPOnly = results.ModelOpen, 2*time.Minute, true
	api.Scenario.Service = &results.Service{Capacity: 6, Last: &results.ServiceSample{InUse: 6, Utilization: 1, OldestIdleInTransaction: 1200 * time.Millisecond}}
	api.Users, api.MaxUsers, api.TargetRate = 3, 10_000, 50
	api.Point.OpP95 = 27 * time.Millisecond
	api.Pools = []live.Pool{{Replica: 1, Capacity: 6}} // planrun's own, idle
	if got, want := progressLine(api, 2), "api 00:41/02:00  rate 50/50/s  in flight 3/10,000  request p95 27ms  service in use 6/6 (oldest idle in tx 1.2s)  errors 2"; got != want {
		t.Errorf("http-only:\n got %q\nwant %q", got, want)
	}

	api.Scenario.Service = &results.Service{Capacity: 6} // before the first sample
	if got := progressLine(api, 0); !strings.Contains(got, "  service in use –/6  ") {
		t.Errorf("before the first sample: %q", got)
	}
}

// TestProgressPrinter: the errors shown are the scenario's so far, warm-up
// included (the sum of its points'), and start again with the next
// scenario; a final snapshot prints nothing; without a terminal a scenario's
// first second prints at once, then every plainEvery.
func TestProgressPrinter(t *testing.T) {
	var buf strings.Builder
	p := newProgressPrinter(&buf, false)
	warm := snapshot("a", 1, time.Second, 10, 2)
	warm.Warmup = true // the scenario's figures leave these errors out; the line does not
	for _, s := range []*live.Snapshot{warm, snapshot("a", 1, 2*time.Second, 10, 3)} {
		if stop := p.Live(s); stop != nil {
			t.Fatalf("the progress line stopped the scenario: %+v", stop)
		}
	}
	final := snapshot("a", 1, 2*time.Second, 10, 0)
	final.Final = true
	p.Live(final)
	p.Live(snapshot("b", 2, time.Second, 10, 1))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "a 00:01/05:00") || !strings.HasSuffix(lines[0], "errors 2") ||
		!strings.HasPrefix(lines[1], "b 00:01/05:00") || !strings.HasSuffix(lines[1], "errors 1") {
		t.Errorf("printed %q; want a's first second (errors 2) and b's (errors 1)", lines)
	}

	buf.Reset()
	tty := newProgressPrinter(&buf, true)
	tty.Live(snapshot("a", 1, time.Second, 10, 2))
	tty.Live(snapshot("a", 1, 2*time.Second, 10, 3))
	if got := buf.String(); strings.Count(got, "\r\033[K") != 2 || !strings.HasSuffix(got, "errors 5") {
		t.Errorf("terminal: %q; want two refreshes, the last with errors 5", got)
	}
}
