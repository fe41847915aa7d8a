package exprbudget_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/planrun/planrun/internal/exprbudget"
)

// meteredEnv is an environment that counts what an evaluation builds.
type meteredEnv struct {
	N     int    `expr:"n"`
	S     string `expr:"s"`
	meter exprbudget.Meter
}

func (e *meteredEnv) ExprMeter() *exprbudget.Meter { return &e.meter }

// plainEnv carries no meter: only MaxLen and expr's budget apply.
type plainEnv struct {
	N int    `expr:"n"`
	S string `expr:"s"`
}

func compileMem(t *testing.T, src string, env any) *vm.Program {
	t.Helper()
	opts := append([]expr.Option{expr.Env(env)}, exprbudget.MemoryOptions()...)
	p, err := expr.Compile(src, opts...)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return p
}

// TestMemoryRefusesGrowth: each expression would build gigabytes (the
// static step budget sees a few dozen steps); each is refused with an
// error that OverMemory recognises, while the heap stays small.
func TestMemoryRefusesGrowth(t *testing.T) {
	for name, src := range map[string]string{
		"string doubling":         `len(reduce(1..34, #acc + #acc, "x"))`,
		"typed string doubling":   `len(reduce(1..34, s + #acc + #acc, "x"))`,
		"let concatenation":       `let a = "xxxxxxxxxxxxxxxx"; let b = a+a+a+a+a+a+a+a; let c = b+b+b+b+b+b+b+b; let d = c+c+c+c+c+c+c+c; let e = d+d+d+d+d+d+d+d; let f = e+e+e+e+e+e+e+e; len(f+f+f+f+f+f+f+f)`,
		"repeat of a repeat":      `len(repeat(repeat("x", 1000000), 1000000))`,
		"replace doubling":        `len(reduce(1..34, replace(#acc, "x", "xx"), "x"))`,
		"replace of empty":        `len(replace(repeat("x", 1000000), "", "yyyyyyyy"))`,
		"join of shared strings":  `let big = repeat("x", 1000000); len(join(map(1..1000, big), ""))`,
		"concat doubling":         `len(reduce(1..34, concat(#acc, #acc), [1]))`,
		"flatten doubling":        `len(reduce(1..34, flatten([#acc, #acc]), [1]))`,
		"toJSON of a shared tree": `len(toJSON(reduce(1..40, [#acc, #acc], 1)))`,
		"string of a shared tree": `len(string(reduce(1..40, [#acc, #acc], 1)))`,
		"toBase64 growth":         `len(reduce(1..80, toBase64(#acc), "xxxx"))`,
		"split of a large string": `len(split(repeat("x", 1000000) + repeat("y", 100000), ""))`,
		"many distinct strings":   `len(map(1..(999*1000), repeat("x", 1000 + #)))`,
	} {
		t.Run(name, func(t *testing.T) {
			for _, env := range []any{&meteredEnv{N: 1, S: "s"}, &plainEnv{N: 1, S: "s"}} {
				if name == "many distinct strings" {
					if _, ok := env.(*plainEnv); ok {
						continue // only the meter bounds this one (see MaxBytes)
					}
				}
				p := compileMem(t, src, env)
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				out, err := expr.Run(p, env)
				if !exprbudget.OverMemory(err) {
					t.Fatalf("%T: Run = %v, %v; want a memory error", env, out, err)
				}
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				t.Logf("%T: %v after %s, heap %d MB", env, firstLine(err), time.Since(start).Round(time.Millisecond), after.HeapAlloc>>20)
				if after.HeapAlloc > before.HeapAlloc+512<<20 {
					t.Errorf("%T: heap grew from %d MB to %d MB", env, before.HeapAlloc>>20, after.HeapAlloc>>20)
				}
			}
		})
	}
}

// TestMemoryKeepsSemantics: the checked functions give what expr's own give.
func TestMemoryKeepsSemantics(t *testing.T) {
	for src, want := range map[string]any{
		`"a" + "b"`:                        "ab",
		`s + "!"`:                          "s!",
		`n + 1`:                            2,
		`reduce(1..3, #acc + #, 0)`:        6,
		`reduce(1..3, #acc + "x", "")`:     "xxx",
		`repeat("ab", 3)`:                  "ababab",
		`replace("a-b-c", "-", "+")`:       "a+b+c",
		`join(["a", "b"], ",")`:            "a,b",
		`join(["a", "b"])`:                 "ab",
		`len(concat([1], [2, 3]))`:         3,
		`len(flatten([[1], [2, [3]]]))`:    3,
		`split("a,b", ",")[1]`:             "b",
		`toJSON([1, "x"])`:                 "[\n  1,\n  \"x\"\n]",
		`string(12)`:                       "12",
		`toBase64("hi")`:                   "aGk=",
		`upper(s + "x")`:                   "SX",
		`(now() + duration("1h")) > now()`: true,
	} {
		for _, env := range []any{&meteredEnv{N: 1, S: "s"}, &plainEnv{N: 1, S: "s"}} {
			p := compileMem(t, src, env)
			got, err := expr.Run(p, env)
			if err != nil || got != want {
				t.Errorf("%T: %s = %#v, %v; want %#v", env, src, got, err, want)
			}
		}
	}
}

// TestMemoryMeterResets: a meter counts one evaluation; the environment
// resets it.
func TestMemoryMeterCounts(t *testing.T) {
	env := &meteredEnv{}
	p := compileMem(t, `len(repeat("x", 1000) + repeat("y", 1000))`, env)
	if _, err := expr.Run(p, env); err != nil {
		t.Fatal(err)
	}
	if got := env.meter.Used(); got != 4000 {
		t.Errorf("meter counted %d bytes, want 4000 (two repeats of 1,000 and their sum of 2,000)", got)
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

var _ = errors.Is

// TestMeteredOptions: a program's own meter (a check's) bounds what one
// evaluation builds even when the environment carries none.
func TestMeteredOptions(t *testing.T) {
	var m exprbudget.Meter
	opts := append([]expr.Option{expr.Env(&plainEnv{})}, exprbudget.MeteredOptions(&m)...)
	p, err := expr.Compile(`len(map(1..(999*1000), repeat("x", 1000 + #)))`, opts...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = expr.Run(p, &plainEnv{})
	if !exprbudget.OverMemory(err) || !strings.Contains(err.Error(), "built more than 67,108,864 bytes") {
		t.Fatalf("Run = %v, want the MaxBytes error", err)
	}
	if m.Used() <= exprbudget.MaxBytes {
		t.Errorf("meter counted %d bytes, want past %d", m.Used(), exprbudget.MaxBytes)
	}
	m.Reset()
	p, err = expr.Compile(`len("ab" + "cd")`, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := expr.Run(p, &plainEnv{}); err != nil || out != 4 || m.Used() != 4 {
		t.Errorf("Run = %v, %v with %d bytes counted; want 4, nil, 4", out, err, m.Used())
	}
}
