package metrics_test

import (
	"slices"
	"testing"

	"github.com/planrun/planrun/metrics"
	"github.com/planrun/planrun/results"
)

// TestServesEveryLiveFigure: every Prometheus series the table of figures
// names is one the collector exports, so that an entry's Live cannot name a
// series nobody serves.
func TestServesEveryLiveFigure(t *testing.T) {
	names := metrics.Names()
	for _, s := range results.LiveSeries() {
		name := s.Name
		if s.Kind == results.Histogram {
			name += "_count"
		}
		if !slices.Contains(names, name) {
			t.Errorf("the table of figures names %s (%s), which the collector does not export", s.Name, s.Kind)
		}
	}
}
