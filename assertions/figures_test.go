package assertions

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"

	"github.com/planrun/planrun/internal/figurestest"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// figureName is the name an assertion writes for f: a per-operation figure
// with the walk scenario's first operation.
func figureName(f results.Figure) string {
	return strings.Replace(f.Name, "<name>", figurestest.Operation, 1)
}

// TestAssertionsReadEveryFigure walks the table of figures: each name
// compiles as a plan's assertion, and the value it evaluates to on a
// scenario whose every number is distinct is the entry's own reading.
func TestAssertionsReadEveryFigure(t *testing.T) {
	sc := figurestest.Scenario()
	run := &results.Run{Scenarios: []results.Scenario{*sc}}
	env := newEnv(run, sc, nil)
	plan := &schema.Plan{File: "plan.yaml", Target: schema.Target{Service: &schema.Service{ApplicationName: "svc"}}, Mixes: map[string]schema.Mix{
		"m": {{Name: figurestest.Operation}, {Name: "other"}},
	}}
	for i, f := range results.Figures() {
		name := figureName(f)
		plan.Assertions = append(plan.Assertions, schema.Assertion{
			Name:  fmt.Sprintf("figure %d", i),
			Check: schema.Expr{Src: name + " == " + name, Pos: schema.Pos{File: "plan.yaml", Line: i + 1, Col: 1}},
		})
		program, err := expr.Compile(name, exprOptions...)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out, err := expr.Run(program, env)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, ok := asFloat(out)
		if !ok {
			t.Errorf("%s: assertions read a %T", name, out)
			continue
		}
		if want := f.Value(sc); got != want {
			t.Errorf("%s: assertions read %v, the table %v", name, got, want)
		}
		if f.OfOperation != nil {
			if want := f.OfOperation(&sc.Operations[0]); got != want {
				t.Errorf("%s: assertions read %v, the table's OfOperation %v", name, got, want)
			}
		}
		info, known := names[f.Name]
		if f.OfOperation != nil {
			info, known = opNames[strings.TrimPrefix(f.Name, results.OperationPrefix)]
		}
		if known && info.fraction != (f.Unit == results.UnitRate) {
			t.Errorf("%s: assertions take it for a fraction: %t, the table's unit is %s", name, info.fraction, f.Unit)
		}
	}
	if _, err := Compile(plan); err != nil {
		t.Errorf("compile every figure as an assertion: %v", err)
	}
}

// TestEveryNameIsAFigure: every name of a scenario's figures that
// assertions offer has its entry in the table of figures, so that a new
// tagged field without one fails here.
func TestEveryNameIsAFigure(t *testing.T) {
	for _, n := range append(Names(), prefixEach(results.OperationPrefix, OperationMembers())...) {
		if strings.HasPrefix(n, "baseline.") || isContext(n) {
			continue
		}
		if _, ok := results.FigureNamed(n); !ok {
			t.Errorf("assertions read %s, which the table of figures (results/figures.go) lacks", n)
		}
	}
}

// isContext reports whether a name is the run's context, a scenario's
// name or its list of faults (each fault's figures are read by index), not
// a figure of the table.
func isContext(n string) bool {
	switch n {
	case "scenario", "faults", "driver", "server_version", "rtt":
		return true
	}
	for _, p := range []string{"pool.", "server.", "preflight."} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// asFloat turns a value assertions read into the table's float64 (see
// results.Unit).
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case time.Duration:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}
