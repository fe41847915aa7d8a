package engine

import (
	"context"
	mrand "math/rand/v2"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/schema"
)

// replicaSet is a scenario's pools: one per replica (application instance)
// the program runs, each with the plan's pool settings and its own waiters,
// as N instances of the application each hold their own pool against one
// server. The load is spread over them as a load balancer would: closed-model
// users round-robin by user id, open-model arrivals round-robin or at random
// (target.balance).
type replicaSet struct {
	// numbers are the replicas' numbers across the plan (results.Replica.Index),
	// pools their pools, in the same order.
	numbers []int
	pools   []*pool.Pool
	random  bool
	// next and pick choose an arrival's replica; the open model's
	// dispatcher goroutine alone uses them.
	next int
	pick *mrand.Rand
}

// newReplicaSet opens (lazily: no connection yet) one pool per replica of the program.
func (e *runEnv) newReplicaSet(ctx context.Context, sc *scenario) (*replicaSet, error) {
	s := &replicaSet{
		numbers: e.prog.Replicas,
		random:  e.prog.Target.Balance == schema.BalanceRandom,
		pick:    sc.rand(streamBalance, 0),
	}
	cfg := e.poolConfig()
	cfg.RecordLevels = true // for utilization (poolLevels), taken at every sample
	for range s.numbers {
		p, err := pool.New(ctx, cfg)
		if err != nil {
			s.close()
			return nil, err
		}
		s.pools = append(s.pools, p)
	}
	return s, nil
}

// forUser is the pool of closed-model user id (from 1): round-robin.
func (s *replicaSet) forUser(id int) *pool.Pool {
	return s.pools[(id-1)%len(s.pools)]
}

// forArrival is the pool of the next open-model arrival.
func (s *replicaSet) forArrival() *pool.Pool {
	if s.random {
		return s.pools[s.pick.IntN(len(s.pools))]
	}
	p := s.pools[s.next]
	s.next = (s.next + 1) % len(s.pools)
	return p
}

// stats samples every pool, in replica order.
func (s *replicaSet) stats() []pool.Stats {
	out := make([]pool.Stats, len(s.pools))
	for i, p := range s.pools {
		out[i] = p.Stats()
	}
	return out
}

// restartExhaustion restarts every pool's exhaustion accounting (the warm-up's end).
func (s *replicaSet) restartExhaustion() {
	for _, p := range s.pools {
		p.RestartExhaustion()
	}
}

// connectLatency is the time to connect of every pool together.
func (s *replicaSet) connectLatency() *hdrhistogram.Histogram {
	h := hdrhistogram.New(int64(time.Microsecond), int64(time.Hour), 3)
	for _, p := range s.pools {
		h.Merge(p.ConnectLatency())
	}
	return h
}

// close closes every pool.
func (s *replicaSet) close() {
	for _, p := range s.pools {
		p.Close()
	}
}

// sumStats adds up the pools' figures: counts and gauges summed, the
// longest exhaustion the longest of any, Exhausted when any pool is.
func sumStats(sts []pool.Stats) pool.Stats {
	var t pool.Stats
	for _, st := range sts {
		t.InUse += st.InUse
		t.Idle += st.Idle
		t.Total += st.Total
		t.Constructing += st.Constructing
		t.Waiting += st.Waiting
		t.MaxOpen += st.MaxOpen
		t.Exhausted = t.Exhausted || st.Exhausted
		t.ExhaustedTotal += st.ExhaustedTotal
		t.ExhaustionEvents += st.ExhaustionEvents
		t.ExhaustedLongest = max(t.ExhaustedLongest, st.ExhaustedLongest)
		t.Opened += st.Opened
		t.ConnectFailures += st.ConnectFailures
		t.Acquires += st.Acquires
		t.Timeouts += st.Timeouts
		t.Unreachable += st.Unreachable
		t.BackingOff = t.BackingOff || st.BackingOff
		if !st.UnreachableSince.IsZero() && (t.UnreachableSince.IsZero() || st.UnreachableSince.Before(t.UnreachableSince)) {
			t.UnreachableSince = st.UnreachableSince
		}
		t.ClosedRecycled += st.ClosedRecycled
		t.ClosedOverflow += st.ClosedOverflow
		t.ClosedBroken += st.ClosedBroken
		t.ClosedEnd += st.ClosedEnd
	}
	return t
}
