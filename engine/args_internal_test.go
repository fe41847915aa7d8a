package engine

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/expr-lang/expr/vm"

	"github.com/planrun/planrun/schema"
)

// BenchmarkArgEval measures one args evaluation with the watchdog's
// bookkeeping (an atomic load, a clock read, a store and a
// compare-and-swap) against the bare VM run.
func BenchmarkArgEval(b *testing.B) {
	a, err := compileArg(schema.Expr{Src: "randInt(1, 10000)"})
	if err != nil {
		b.Fatal(err)
	}
	u := &user{argTimeout: 1}
	b.Run("watched", func(b *testing.B) {
		for range b.N {
			if _, err := u.eval(a, &operation{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		for range b.N {
			if _, err := u.vm.Run(a.program, &u.env); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestArgsReplayWithSeed: the generators draw from the evaluating user's
// random source, so the same seed gives the same args (and another seed
// others); without a source they still work, from the global one.
func TestArgsReplayWithSeed(t *testing.T) {
	arg, perr := compileArg(schema.Expr{Src: `[randInt(1, 1000000), randFloat(0, 1), randChoice(["a", "b", "c", "d"]), randString(8), uuid()]`})
	if perr != nil {
		t.Fatal(perr)
	}
	draw := func(seed uint64, src bool) []string {
		env := argEnv{}
		if src {
			env.Rand = mrand.New(mrand.NewPCG(seed, 0))
		}
		var out []string
		for range 20 {
			v, err := vm.Run(arg.program, &env)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	a, b, c := draw(42, true), draw(42, true), draw(43, true)
	if !slices.Equal(a, b) {
		t.Errorf("seed 42 twice gave different args:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Error("seeds 42 and 43 gave the same args")
	}
	if g1, g2 := draw(0, false), draw(0, false); slices.Equal(g1, g2) {
		t.Error("without a source, two draws of 20 evaluations were equal")
	}
	t.Logf("seed 42: %v", a[0])
}
