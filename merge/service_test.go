package merge_test

import (
	"testing"
	"time"

	"github.com/planrun/planrun/merge"
	"github.com/planrun/planrun/results"
)

// TestServiceIsTheLargestSegments: the service's levels and leaks are the
// largest segment's (headroom the smallest, means weighted by samples),
// its proxy connections summed, a segment's drain note kept with its
// label, and a not-found segment's zeros left out of the figures.
func TestServiceIsTheLargestSegments(t *testing.T) {
	in, _, _ := threeSegments()
	svc := func(samples, inUseMax int, mean, util float64, headroom, leaks int, opened int64) *results.Service {
		s := &results.Service{
			ApplicationName: "svc", Capacity: 20, Interval: 100 * time.Millisecond, Samples: samples, DrainChecked: true,
			Backends:          results.ServiceLevel{Max: inUseMax + 2, Mean: mean + 2, P95: inUseMax + 1},
			InUse:             results.ServiceLevel{Max: inUseMax, Mean: mean, P95: inUseMax - 1},
			Utilization:       results.Utilization{Mean: mean / 20, P95: float64(inUseMax-1) / 20, Max: util},
			IdleInTransaction: results.IdleInTransaction{Max: time.Duration(inUseMax) * time.Second},
			LockWaits:         results.LockWaits{Max: inUseMax / 2},
			Headroom:          results.Headroom{Min: headroom},
			Leaks:             leaks,
			Connections:       results.ServiceConnections{Opened: opened, Closed: opened, MaxOpen: int(opened)},
		}
		for i := range leaks {
			s.LeakDetails = append(s.LeakDetails, results.ServiceLeak{PID: 100*inUseMax + i, Kind: "held"})
		}
		return s
	}
	in[0].Run.Scenarios[0].Service = svc(100, 10, 4, 0.5, 30, 1, 5)
	in[1].Run.Scenarios[0].Service = svc(300, 8, 8, 0.4, 20, 2, 7)
	in[1].Run.Scenarios[0].Service.DrainChecked = false
	in[1].Run.Scenarios[0].Service.DrainNotChecked = "monitor lost"
	in[2].Run.Scenarios[0].Service = &results.Service{ApplicationName: "svc", Capacity: 20, Interval: 100 * time.Millisecond,
		NotFound: `no backend with application_name "svc": set target.service.application_name`}
	run, err := merge.Runs(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Validate(); err != nil {
		t.Errorf("the merged record is not valid: %v", err)
	}
	got := run.Scenarios[0].Service
	if got == nil {
		t.Fatal("no merged service")
	}
	want := results.Service{
		ApplicationName: "svc", Capacity: 20, Interval: 100 * time.Millisecond, Samples: 400,
		Backends:          results.ServiceLevel{Max: 12, Mean: (6*100 + 10*300) / 400.0, P95: 11},
		InUse:             results.ServiceLevel{Max: 10, Mean: (4*100 + 8*300) / 400.0, P95: 9},
		Utilization:       results.Utilization{Mean: (0.2*100 + 0.4*300) / 400, P95: 0.45, Max: 0.5},
		IdleInTransaction: results.IdleInTransaction{Max: 10 * time.Second},
		LockWaits:         results.LockWaits{Max: 5},
		Headroom:          results.Headroom{Min: 20},
		Leaks:             2,
		LeakDetails:       []results.ServiceLeak{{PID: 800, Kind: "held"}, {PID: 801, Kind: "held"}},
		DrainNotChecked:   "segment 2 (b.json): monitor lost",
		NotFound:          `segment 3 (c.json): no backend with application_name "svc": set target.service.application_name`,
		Connections:       results.ServiceConnections{Opened: 12, Closed: 12, MaxOpen: 12},
	}
	if diff(got.Utilization.Mean, want.Utilization.Mean) > 1e-12 || diff(got.InUse.Mean, want.InUse.Mean) > 1e-12 || diff(got.Backends.Mean, want.Backends.Mean) > 1e-12 {
		t.Errorf("means %v %v %v, want %v %v %v", got.Backends.Mean, got.InUse.Mean, got.Utilization.Mean, want.Backends.Mean, want.InUse.Mean, want.Utilization.Mean)
	}
	got.Utilization.Mean, got.InUse.Mean, got.Backends.Mean = want.Utilization.Mean, want.InUse.Mean, want.Backends.Mean
	if g, w := *got, want; g.Capacity != w.Capacity || g.Samples != w.Samples || g.Backends != w.Backends || g.InUse != w.InUse ||
		g.Utilization != w.Utilization || g.IdleInTransaction != w.IdleInTransaction || g.LockWaits != w.LockWaits ||
		g.Headroom != w.Headroom || g.Leaks != w.Leaks || len(g.LeakDetails) != 2 || g.LeakDetails[0] != w.LeakDetails[0] ||
		g.DrainChecked || g.DrainNotChecked != w.DrainNotChecked || g.NotFound != w.NotFound || g.Connections != w.Connections {
		t.Errorf("merged service\n got %+v\nwant %+v", g, w)
	}

	// Without a service in any segment, none in the merge.
	in2, _, _ := threeSegments()
	run, err = merge.Runs(in2)
	if err != nil {
		t.Fatal(err)
	}
	if run.Scenarios[0].Service != nil {
		t.Errorf("service %+v, want none", run.Scenarios[0].Service)
	}
}
