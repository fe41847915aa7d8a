// Package live is a run's live stream. Once a second while a scenario runs,
// and once more when it has ended (marked Final), the engine hands one
// [Snapshot] to each of its sinks ([Sink]): the scenario's results so far
// (a partial results.Scenario, filled by the same code as the final
// results), the series point of the second that just ended, and the pool
// and fault state of that moment. The terminal progress line (cmd/planrun),
// the Prometheus collector (package metrics) and the abort_on_fail
// assertions (package assertions) are views of it.
//
// The package imports only results, so that a sink never imports the
// engine.
package live

import (
	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/results"
)

// Sink receives a run's live stream.
//
// Live is called once a second from the scenario's sampler goroutine,
// never from a user's, and once more when the scenario has ended
// (s.Final). It must return quickly and must not block: the sampler waits
// for it. Every sink of a run gets the same snapshot, in turn; none may
// change it. A sink may keep it (the engine never changes it once handed
// over) except for s.Histograms, which are the engine's and valid only
// during the call.
//
// A non-nil outcome stops the scenario (an abort_on_fail assertion that
// failed); the scenario then ends aborted. It is ignored for the final
// snapshot.
type Sink interface {
	Live(s *Snapshot) (stop *results.Outcome)
}

// SinkFunc is a function used as a [Sink].
type SinkFunc func(s *Snapshot) (stop *results.Outcome)

// Live calls f(s).
func (f SinkFunc) Live(s *Snapshot) *results.Outcome { return f(s) }

var _ Sink = SinkFunc(nil)

// GeneratorReader may be implemented by a [Sink] to say whether it reads
// the partial scenario's Generator figures. Their CPU figures are read from
// /proc (the server's process tree: a file per process of the machine),
// the costliest part of a live second; when no sink of a run reads them,
// every snapshot but the final one leaves Scenario.Generator at its zero
// value. A sink without the method reads them.
type GeneratorReader interface {
	ReadsGenerator() bool
}

// Snapshot is a scenario at one moment of the live stream.
type Snapshot struct {
	// Run is the run being recorded: its target, pool settings and
	// preflight checks are set; its scenarios are those that ended
	// before this one. Read only.
	Run *results.Run
	// Scenario is the scenario's results so far: like its final results
	// (counts, latencies, utilization, exhaustion, generator... after the
	// warm-up; Name, Mix, Model, Planned, Elapsed, Warmup) but without a
	// Status, encoded histograms, faults or series, and without Generator
	// when no sink reads it ([GeneratorReader]). In the final snapshot
	// it is the scenario's results as the load ended, before the
	// server-side leak check and the connection accounting.
	Scenario *results.Scenario
	// Point is the series point of the step that just ended (a second, or
	// the part of one up to the warm-up's end); in the final snapshot, the
	// last step's, up to the scenario's end. Unlike Scenario it counts
	// the warm-up's operations too (Point.Warmup marks them).
	Point results.Point

	// Index is the scenario's position in the run, from 1; Count the
	// number of scenarios the run runs.
	Index, Count int
	// Final is set for the last snapshot, taken once the scenario ended.
	Final bool
	// Warmup is true while the scenario is in its warm-up: its operations
	// are not counted in Scenario.
	Warmup bool

	// Users are the active users of a closed model, or an open model's
	// operations in flight, now (0 in the final snapshot). MaxUsers is the
	// shape's peak of users, or an open model's max_in_flight.
	Users, MaxUsers int
	// TargetRate is an open model's target rate now, in arrivals per
	// second (0 for a closed model and in the final snapshot).
	TargetRate float64
	// Dropped are the open-model arrivals of Point's step that were not run
	// (max_in_flight reached); Point.Ops counts them.
	Dropped int64
	// Pools are the scenario's pools, one per replica, at the last pool
	// sample (every 100 ms).
	Pools []Pool
	// Faults are the scenario's scheduled faults, in plan order.
	Faults []Fault

	// Histograms are the engine's histograms behind Scenario's figures,
	// for the sinks that need distributions (Prometheus buckets). They
	// belong to the engine and are valid only during the call to
	// [Sink.Live]: a sink reads them then and keeps what it computed.
	Histograms Histograms
}

// Pool is one replica's pool at a sample.
type Pool struct {
	Replica int // results.Replica.Index
	// Open, InUse and Idle are connections; Waiting are callers waiting
	// for one; Capacity is size + max_overflow.
	Open, InUse, Idle, Waiting, Capacity int
}

// Fault is one scheduled fault. Active is true from its start until it
// ended (an instantaneous fault is active while it is being applied).
type Fault struct {
	Index  int // from 1, in plan order
	Kind   string
	What   string
	Active bool
}

// Histograms are the engine's HdrHistograms at a snapshot (read only).
type Histograms struct {
	// Operations are the mix's operations, in plan order (as
	// Scenario.Operations): acquire, statement and operation times in
	// nanoseconds, after the warm-up.
	Operations []Operation
	// Lateness is how late the load generator's own 10 ms timer fired
	// (internal/selfwatch), in microseconds, over the whole scenario,
	// warm-up included.
	Lateness *hdrhistogram.Histogram
}

// Operation holds one operation's histograms.
type Operation struct {
	Acquire, Query, Op *hdrhistogram.Histogram
}

// Pool is the pools' state together: each gauge summed over the replicas
// (Replica 0).
func (s *Snapshot) Pool() Pool {
	var t Pool
	for _, p := range s.Pools {
		t.Open += p.Open
		t.InUse += p.InUse
		t.Idle += p.Idle
		t.Waiting += p.Waiting
		t.Capacity += p.Capacity
	}
	return t
}
