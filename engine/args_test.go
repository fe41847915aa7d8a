package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/schema"
)

// TestArgsBudget: an args expression that could run for hours is refused
// when the plan is compiled, at the loop to shrink.
func TestArgsBudget(t *testing.T) {
	nested := func(n int) string {
		return strings.Repeat("all(1..100, ", n) + "true" + strings.Repeat(")", n)
	}
	tests := []struct {
		name string
		arg  string
		col  int    // of the error on line 5 (the item starts at 43), 0 when the plan compiles
		msg  string // start of the message
	}{
		{"five nested loops of 100", nested(5), 43 + len("all(1..100, all(1..100, all(1..100, "),
			`args expression "` + nested(5) + `" may run too long: ` + "`all` nests loops (all, any, map, filter, ...) 4 deep, more than 3"},
		{"two nested loops of 100", nested(2), 0, ""},
		{"a long random string in a loop", "map(1..100, randString(10000))", 43,
			`args expression "map(1..100, randString(10000))" may run too long: ` + "`map` may take about 1,000,504 steps per evaluation"},
		{"one long random string", "randString(50000)", 0, ""},
		{"one random string too long", "randString(200000)", 43,
			`args expression "randString(200000)" may run too long: the call may take about 200,003 steps`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "version: 1\nname: t\nmixes:\n  app:\n    - {name: read, sql: SELECT $1, args: [" + tt.arg + "]}\n" +
				"scenarios:\n  - {name: s, users: 1, duration: 1s}\n"
			plan, err := schema.Parse("plan.yaml", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = engine.Compile(plan, engine.Options{})
			if tt.col == 0 {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			var es schema.Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("Compile error %v, want one schema.Errors entry", err)
			}
			e := es[0]
			if want := (schema.Pos{File: "plan.yaml", Line: 5, Col: tt.col}); e.Pos != want {
				t.Errorf("at %s, want %s", e.Pos, want)
			}
			if !strings.HasPrefix(e.Msg, tt.msg) {
				t.Errorf("message\n got %q\nwant %q...", e.Msg, tt.msg)
			}
			if !strings.Contains(e.Hint, "cannot be interrupted") {
				t.Errorf("hint %q", e.Hint)
			}
		})
	}
}
