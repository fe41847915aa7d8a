package compare_test

import (
	"testing"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/results"
)

// TestServiceFigures: with the service under test watched in both runs,
// compare shows its utilization max (reported only) and judges its leaks
// (0 → 2 is a regression); a run without the service, one whose backends
// were not found, or (leaks) one without the drain check gives no such row.
func TestServiceFigures(t *testing.T) {
	withService := func(util float64, leaks int, edit func(*results.Service)) func(*results.Scenario) {
		return func(s *results.Scenario) {
			s.Service = &results.Service{ApplicationName: "svc", Capacity: 20, Samples: 100, DrainChecked: true,
				Utilization: results.Utilization{Mean: util / 2, P95: util, Max: util}, Leaks: leaks}
			if edit != nil {
				edit(s.Service)
			}
		}
	}
	has := func(c *compare.Comparison, metric string) bool {
		for _, r := range c.Rows {
			if r.Scenario == "peak" && r.Name() == metric {
				return true
			}
		}
		return false
	}

	c := compare.Runs(run(scenario("peak", withService(0.5, 0, nil))), run(scenario("peak", withService(0.9, 2, nil))), compare.Options{})
	if r := findRow(t, c, "peak", "service.leaks"); !r.Regression || r.Base != 0 || r.New != 2 {
		t.Errorf("service.leaks row %+v, want a regression from 0 to 2", r)
	}
	if r := findRow(t, c, "peak", "service.utilization.max"); r.Regression || r.Improvement || r.Base != 0.5 || r.New != 0.9 || r.Unit != compare.UnitRate {
		t.Errorf("service.utilization.max row %+v, want 50%% → 90%%, reported only", r)
	}

	notFound := func(v *results.Service) {
		v.NotFound = `no backend with application_name "svc": set target.service.application_name`
	}
	noDrain := func(v *results.Service) { v.DrainChecked, v.DrainNotChecked = false, "monitor lost" }
	for _, tc := range []struct {
		name       string
		base, new  func(*results.Scenario)
		util, leak bool
	}{
		{"no service in the base", nil, withService(0.9, 2, nil), false, false},
		{"not found in the new run", withService(0.5, 0, nil), withService(0.9, 2, notFound), false, false},
		{"drain not checked in the base", withService(0.5, 0, noDrain), withService(0.9, 2, nil), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compare.Runs(run(scenario("peak", tc.base)), run(scenario("peak", tc.new)), compare.Options{})
			if got := has(c, "service.utilization.max"); got != tc.util {
				t.Errorf("service.utilization.max row: %v, want %v", got, tc.util)
			}
			if got := has(c, "service.leaks"); got != tc.leak {
				t.Errorf("service.leaks row: %v, want %v", got, tc.leak)
			}
		})
	}
}

// TestHTTPOnlyScenario: where a run's scenario sent only HTTP requests
// (planrun's own pool took no load), compare leaves out the rows of that
// pool's figures (acquire, query, utilization, leaks, acquire timeouts)
// and keeps the requests' (op, throughput, errors) and the service's.
func TestHTTPOnlyScenario(t *testing.T) {
	httpOnly := func(s *results.Scenario) {
		s.HTTPOnly = true
		s.Acquire, s.Query, s.Utilization = results.Latency{}, results.Latency{}, results.Utilization{}
		s.Service = &results.Service{ApplicationName: "svc", Capacity: 6, Samples: 100, DrainChecked: true,
			Utilization: results.Utilization{Mean: 0.2, P95: 0.4, Max: 0.5}}
	}
	for _, tc := range []struct {
		name      string
		base, new func(*results.Scenario)
	}{
		{"both http-only", httpOnly, httpOnly},
		{"base http-only, new with SQL", httpOnly, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compare.Runs(run(scenario("api", tc.base)), run(scenario("api", tc.new)), compare.Options{})
			names := map[string]bool{}
			for _, r := range c.Rows {
				names[r.Name()] = true
				if m := r.Name(); results.ReadsOwnPool(m) || m == "timeouts" {
					t.Errorf("row %s (%v → %v) compares planrun's own pool", m, r.Base, r.New)
				}
			}
			for _, want := range []string{"op.p95", "throughput"} {
				if !names[want] {
					t.Errorf("no %s row in %v", want, names)
				}
			}
		})
	}
}
