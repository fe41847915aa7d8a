package live_test

import (
	"testing"

	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// TestPoolSumsTheReplicas: the pools together are every gauge summed.
func TestPoolSumsTheReplicas(t *testing.T) {
	s := live.Snapshot{Pools: []live.Pool{
		{Replica: 1, Open: 4, InUse: 3, Idle: 1, Waiting: 2, Capacity: 5},
		{Replica: 2, Open: 5, InUse: 5, Idle: 0, Waiting: 9, Capacity: 5},
	}}
	if got, want := s.Pool(), (live.Pool{Open: 9, InUse: 8, Idle: 1, Waiting: 11, Capacity: 10}); got != want {
		t.Errorf("Pool() = %+v, want %+v", got, want)
	}
	if got := (&live.Snapshot{}).Pool(); got != (live.Pool{}) {
		t.Errorf("no pools: %+v", got)
	}
}

func TestSinkFunc(t *testing.T) {
	stop := &results.Outcome{Name: "guard"}
	var got *live.Snapshot
	var sink live.Sink = live.SinkFunc(func(s *live.Snapshot) *results.Outcome { got = s; return stop })
	s := &live.Snapshot{Index: 3}
	if o := sink.Live(s); o != stop || got != s {
		t.Errorf("SinkFunc did not call its function with the snapshot and return its outcome")
	}
}
