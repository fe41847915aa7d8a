package report

import (
	"testing"

	"github.com/planrun/planrun/results"
)

// A built-in check is marked "(built-in)" once: the built-ins the
// assertions package adds already say so in their names.
func TestOutcomeNameBuiltinOnce(t *testing.T) {
	tests := []struct {
		o    results.Outcome
		want string
	}{
		{results.Outcome{Name: "built-in: operations succeeded", Builtin: true}, "built-in: operations succeeded"},
		{results.Outcome{Name: "zero connection leaks", Builtin: true}, "zero connection leaks (built-in)"},
		{results.Outcome{Name: "acquire p95 under 200ms"}, "acquire p95 under 200ms"},
	}
	for _, tt := range tests {
		if got := outcomeName(tt.o); got != tt.want {
			t.Errorf("outcomeName(%q, builtin %t) = %q, want %q", tt.o.Name, tt.o.Builtin, got, tt.want)
		}
	}
}
