package engine

import (
	"testing"

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
