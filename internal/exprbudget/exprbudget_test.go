package exprbudget_test

import (
	"strings"
	"testing"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/planrun/planrun/internal/exprbudget"
)

// nested returns n nested all(coll, ...) around `true`.
func nested(n int, coll string) string {
	return strings.Repeat("all("+coll+", ", n) + "true" + strings.Repeat(")", n)
}

func TestCheckSourceAccepts(t *testing.T) {
	for _, src := range []string{
		"randInt(1, 100)",
		`randChoice(["a", "b", "c"])`,
		"user * 1000 + iteration",
		"map(1..10, randInt(1, 10))",
		nested(2, "1..100"),
		nested(3, "1..25"),
		"filter(1..1000, # % 2 == 0)",
		"let xs = 1..10; map(xs, # * 2)",
		"sum(1..1000)",
		"randString(50000)",
		`repeat("x", 1000)`,
		"user > 5 ? map(1..100, #) : []",
		"not valid (", // a syntax error is for the compiler to report
		"",
	} {
		if err := exprbudget.CheckSource(src, randStringCost); err != nil {
			t.Errorf("CheckSource(%q) = %v, want nil", src, err)
		}
	}
}

// randStringCost counts randString(n) as n steps.
var randStringCost = exprbudget.Limits{CallCost: func(name string, args []ast.Node) (float64, bool) {
	if name != "randString" || len(args) == 0 {
		return 0, false
	}
	if n, ok := args[0].(*ast.IntegerNode); ok {
		return float64(n.Value), true
	}
	return 0, false
}}

func TestCheckSourceRejects(t *testing.T) {
	tests := []struct {
		name string
		src  string
		lim  exprbudget.Limits
		line int
		col  int // 0-based, as expr's errors
		msg  string
	}{
		{
			name: "five nested loops of 100",
			src:  nested(5, "1..100"),
			col:  len("all(1..100, all(1..100, all(1..100, "),
			msg:  "`all` nests loops (all, any, map, filter, ...) 4 deep, more than 3",
		},
		{
			name: "five nested loops over one-element arrays",
			src:  nested(5, "[1..100]"),
			col:  len("all([1..100], all([1..100], all([1..100], "),
			msg:  "`all` nests loops (all, any, map, filter, ...) 4 deep, more than 3",
		},
		{
			name: "three nested loops of 1000",
			src:  nested(3, "1..1000"),
			col:  len("all(1..1000, "),
			msg:  "`all` may take about 3,006,004 steps per evaluation, more than the budget of 100,000",
		},
		{
			name: "loops over lengths not written are assumed 100 long",
			src:  "map(1..user, map(1..user, map(1..user, 1)))",
			col:  0,
			msg:  "`map` may take about 3,060,604 steps per evaluation, more than the budget of 100,000",
		},
		{
			name: "a variable keeps its length",
			src:  "let xs = 1..2000; all(xs, all(xs, true))",
			col:  len("let xs = 1..2000; "),
			msg:  "`all` may take about 8,006,002 steps per evaluation, more than the budget of 100,000",
		},
		{
			name: "a huge range",
			src:  "len(1..100000000)",
			col:  len("len(1"),
			msg:  "the range holds 100,000,000 numbers, more than the budget of 100,000",
		},
		{
			name: "negative ends",
			src:  "len(-2000000..-1)",
			col:  len("len(-2000000"),
			msg:  "the range holds 2,000,000 numbers, more than the budget of 100,000",
		},
		{
			name: "a costly call in a loop",
			src:  "map(1..100, randString(10000))",
			lim:  randStringCost,
			msg:  "`map` may take about 1,000,504 steps per evaluation, more than the budget of 100,000",
		},
		{
			name: "a repeat in a loop",
			src:  `map(1..1000, repeat("x", 10000))`,
			msg:  "`map` may take about 10,005,004 steps per evaluation, more than the budget of 100,000",
		},
		{
			name: "on a later line",
			src:  "1 +\n  sum(map(1..2000, sum(1..2000)))",
			line: 2,
			col:  len("  sum("),
			msg:  "`map` may take about 8,012,004 steps per evaluation, more than the budget of 100,000",
		},
		{
			name: "a costly call alone",
			src:  "randString(2000000)",
			lim:  randStringCost,
			msg:  "the call may take about 2,000,003 steps, more than the budget of 100,000",
		},
		{
			name: "a smaller budget",
			src:  "map(1..100, #)",
			lim:  exprbudget.Limits{MaxSteps: 200},
			msg:  "`map` may take about 304 steps per evaluation, more than the budget of 200",
		},
		{
			name: "a shallower nesting",
			src:  nested(2, "[1]"),
			lim:  exprbudget.Limits{MaxDepth: 1},
			col:  len("all([1], "),
			msg:  "`all` nests loops (all, any, map, filter, ...) 2 deep, more than 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := exprbudget.CheckSource(tt.src, tt.lim)
			if err == nil {
				t.Fatalf("CheckSource(%q) = nil, want an error", tt.src)
			}
			if err.Message != tt.msg {
				t.Errorf("message\n got %q\nwant %q", err.Message, tt.msg)
			}
			line := max(tt.line, 1)
			if err.Line != line || err.Column != tt.col {
				t.Errorf("at %d:%d, want %d:%d (%s)", err.Line, err.Column, line, tt.col, err.Error())
			}
		})
	}
}

func TestEstimate(t *testing.T) {
	for src, want := range map[string]float64{
		"1":                 1,
		"1 + 2":             3,
		"map(1..10, # * 2)": 1 + (3 + 10) + 10*(3+1),
		nested(5, "1..100"): 0, // checked below: about 10^10
	} {
		tree, err := parser.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		got := exprbudget.Estimate(tree.Node, exprbudget.Limits{})
		if want == 0 {
			if got < 1e10 || got > 1e11 {
				t.Errorf("Estimate(%q) = %g, want about 1e10", src, got)
			}
			continue
		}
		if got != want {
			t.Errorf("Estimate(%q) = %g, want %g", src, got, want)
		}
	}
}

// FuzzCheckSource: no expression makes the checker panic, and an error is
// always located inside the source.
func FuzzCheckSource(f *testing.F) {
	for _, s := range []string{nested(5, "1..100"), "let x = 1..3; map(x, #)", "reduce(1..10, #acc + #, 0)", "sortBy([3, 1], #)", "a?.b[1:2]", "1 in 1..10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if err := exprbudget.CheckSource(src, randStringCost); err != nil && (err.Line < 1 || err.Message == "") {
			t.Fatalf("error %+v", err)
		}
	})
}
