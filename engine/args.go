package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/planrun/planrun/internal/exprbudget"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/schema"
)

// argEnv is what an `args` expression sees besides the generator functions.
// One value per user, updated before each operation.
type argEnv struct {
	// User is the user's 1-based number within its scenario.
	User int `expr:"user"`
	// Iteration is the 1-based count of this user's operations so far, this one included.
	Iteration int `expr:"iteration"`
	// Scenario is the scenario's name.
	Scenario string `expr:"scenario"`
	// Rand is the random source of the generators (randInt, …): the
	// evaluating user's, drawn from the run's seed, so that one seed replays
	// the same args. The generators get it as a hidden first argument
	// (randSource); nil uses math/rand/v2's global source.
	Rand *mrand.Rand `expr:"_rand"`

	// mem counts what the evaluations of one operation (one Iteration)
	// build, against exprbudget.MaxBytes; memIter is the Iteration it
	// counts.
	mem     exprbudget.Meter
	memIter int
}

// ExprMeter returns the meter of the operation under way, reset when the
// user moved on to its next operation (see [exprbudget.Metered]).
func (e *argEnv) ExprMeter() *exprbudget.Meter {
	if e.memIter != e.Iteration {
		e.mem.Reset()
		e.memIter = e.Iteration
	}
	return &e.mem
}

// randSource patches every call of a generator to pass the env's random
// source first: `randInt(1, 10)` runs as `randInt(_rand, 1, 10)`.
type randSource struct{}

// seededGenerators are the generators that draw from the random source.
var seededGenerators = map[string]bool{"randInt": true, "randFloat": true, "randChoice": true, "randString": true, "uuid": true}

func (randSource) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); ok && seededGenerators[id.Value] {
		src := &ast.IdentifierNode{Value: "_rand"}
		call.Arguments = append([]ast.Node{src}, call.Arguments...)
	}
}

// source is r, or the global source's functions when r is nil.
func source(r any) *mrand.Rand {
	if rr, ok := r.(*mrand.Rand); ok {
		return rr
	}
	return nil
}

func intN(r *mrand.Rand, n int) int {
	if r == nil {
		return mrand.IntN(n)
	}
	return r.IntN(n)
}

func float64N(r *mrand.Rand) float64 {
	if r == nil {
		return mrand.Float64()
	}
	return r.Float64()
}

// argFunctions are the generators available in args expressions. Each gets
// the evaluating user's random source as a hidden first argument (see
// randSource); without one they use math/rand/v2's global source, which is
// safe for concurrent use without a shared lock.
var argFunctions = []expr.Option{
	expr.Patch(randSource{}),
	expr.Function("randInt", func(p ...any) (any, error) {
		lo, hi := p[1].(int), p[2].(int)
		if hi < lo {
			return nil, fmt.Errorf("randInt(%d, %d): max is below min", lo, hi)
		}
		return lo + intN(source(p[0]), hi-lo+1), nil
	}, new(func(*mrand.Rand, int, int) int)),
	expr.Function("randFloat", func(p ...any) (any, error) {
		lo, hi := p[1].(float64), p[2].(float64)
		return lo + float64N(source(p[0]))*(hi-lo), nil
	}, new(func(*mrand.Rand, float64, float64) float64)),
	expr.Function("randChoice", func(p ...any) (any, error) {
		list, ok := p[1].([]any)
		if !ok || len(list) == 0 {
			return nil, errors.New("randChoice needs a non-empty list, e.g. randChoice([\"a\", \"b\"])")
		}
		return list[intN(source(p[0]), len(list))], nil
	}, new(func(*mrand.Rand, []any) any)),
	expr.Function("randString", func(p ...any) (any, error) {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
		n := p[1].(int)
		if n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("randString(%d): length must be 0..1048576", n)
		}
		r := source(p[0])
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[intN(r, len(letters))]
		}
		return string(b), nil
	}, new(func(*mrand.Rand, int) string)),
	expr.Function("uuid", func(p ...any) (any, error) {
		var b [16]byte
		if r := source(p[0]); r != nil {
			binary.LittleEndian.PutUint64(b[:8], r.Uint64())
			binary.LittleEndian.PutUint64(b[8:], r.Uint64())
		} else {
			_, _ = rand.Read(b[:])
		}
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
	}, new(func(*mrand.Rand) string)),
	expr.Function("now", func(...any) (any, error) { return time.Now(), nil }, new(func() time.Time)),
}

// argFunctionNames lists the generator functions, for docs and hints.
var argFunctionNames = []string{"randInt(min, max)", "randFloat(min, max)", "randChoice(list)", "randString(n)", "uuid()", "now()", "user", "iteration", "scenario"}

// argTimeout is the wall-clock budget of one evaluation of an args
// expression: [exprbudget.DefaultTimeout] unless a test lowered it.
func (p *Program) argTimeout() time.Duration {
	if p.testArgTimeout > 0 {
		return p.testArgTimeout
	}
	return exprbudget.DefaultTimeout
}

// argExpr is one compiled args expression.
type argExpr struct {
	src     string
	pos     schema.Pos
	program *vm.Program
	// overrun is set once an evaluation ran past its time budget (see
	// [Program.argTimeout]): the expression is not evaluated again by this
	// program, each further evaluation fails at once, so that only the
	// users inside it at the time are left spinning in the VM.
	overrun atomic.Bool
}

// errOverrun is the error of an args expression that is no longer
// evaluated because an evaluation of it ran past the time budget.
func (a *argExpr) errOverrun(budget time.Duration) error {
	return fmt.Errorf("%w: args expression %q (%s) ran past its time budget of %s earlier in the run and is not evaluated again: "+
		"expressions cannot be interrupted; make it cheaper (see docs/plan-format.md, Expressions)", errArgs, a.src, a.pos, humanize.Duration(budget))
}

// evalStatementArgs evaluates the args of a statement run outside the load (setup,
// teardown) in a goroutine of its own, waiting at most budget or until ctx
// ends: past that the evaluation is abandoned (the VM cannot be
// interrupted) and the statement fails.
func evalStatementArgs(ctx context.Context, st *statement, budget time.Duration) ([]any, error) {
	if len(st.Args) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(st.Args))
	for _, a := range st.Args {
		if a.overrun.Load() {
			return nil, a.errOverrun(budget)
		}
		type result struct {
			v   any
			err error
		}
		done := make(chan result, 1) // buffered: an abandoned evaluation never blocks
		go func() {
			v, err := vm.Run(a.program, &argEnv{})
			done <- result{v, err}
		}()
		timer := time.NewTimer(budget)
		select {
		case r := <-done:
			timer.Stop()
			if r.err != nil {
				return nil, fmt.Errorf("%w: args expression %q (%s): %s", errArgs, a.src, a.pos, r.err)
			}
			args = append(args, r.v)
		case <-timer.C:
			a.overrun.Store(true)
			return nil, fmt.Errorf("%w: args expression %q (%s) ran past its time budget of %s and was abandoned: expressions cannot be interrupted; make it cheaper",
				errArgs, a.src, a.pos, humanize.Duration(budget))
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("args expression %q (%s) abandoned: %w", a.src, a.pos, ctx.Err())
		}
	}
	return args, nil
}

// compileArg compiles one args expression; its error is positioned in the plan.
//
// An expression whose evaluation could run too long is refused (see
// [argBudget]): args run before every operation, and the expr VM cannot be
// interrupted, not even by Ctrl-C. An expression is at most
// [exprbudget.MaxNodes] nodes long.
func compileArg(e schema.Expr) (*argExpr, *schema.Error) {
	opts := append([]expr.Option{expr.Env(argEnv{}), expr.MaxNodes(exprbudget.MaxNodes)}, argFunctions...)
	opts = append(opts, exprbudget.MemoryOptions()...)
	p, err := expr.Compile(e.Src, opts...)
	if exprbudget.TooManyNodes(err) {
		return nil, &schema.Error{
			Pos:  exprErrorPos(e, err),
			Msg:  fmt.Sprintf("args expression is too long: more than %s syntax nodes", humanize.Int(exprbudget.MaxNodes)),
			Hint: "put a long list of values in a table and pick from it in the SQL (e.g. `SELECT ... ORDER BY random() LIMIT 1`), or use randInt/randString",
		}
	}
	if err != nil {
		return nil, &schema.Error{
			Pos:  exprErrorPos(e, err),
			Msg:  fmt.Sprintf("args expression %q does not compile: %s", e.Src, exprMessage(err)),
			Hint: "args are expr expressions; available: " + strings.Join(argFunctionNames, ", "),
		}
	}
	if ferr := exprbudget.CheckSource(e.Src, argBudget); ferr != nil {
		return nil, &schema.Error{
			Pos: exprErrorPos(e, ferr),
			Msg: fmt.Sprintf("args expression %q may run too long: %s", e.Src, ferr.Message),
			Hint: fmt.Sprintf("args are evaluated before every operation and cannot be interrupted: at most about %s steps, loops (all, any, map, filter, ...) at most %d deep; a list whose length is not written counts as %d items",
				humanize.Int(exprbudget.DefaultMaxSteps), exprbudget.DefaultMaxDepth, exprbudget.DefaultUnknownLen),
		}
	}
	return &argExpr{src: e.Src, pos: e.Pos, program: p}, nil
}

// argBudget bounds one evaluation of an args expression. randString(n)
// costs n steps (it draws n letters).
var argBudget = exprbudget.Limits{
	CallCost: func(name string, args []ast.Node) (float64, bool) {
		if n, ok := args0Int(args); ok && name == "randString" {
			return float64(n), true
		}
		return 0, false
	},
}

// args0Int returns the first argument when it is an integer literal.
func args0Int(args []ast.Node) (int, bool) {
	if len(args) == 0 {
		return 0, false
	}
	n, ok := args[0].(*ast.IntegerNode)
	if !ok {
		return 0, false
	}
	return n.Value, true
}

// exprErrorPos maps an expr compile error to the position in the plan file.
func exprErrorPos(e schema.Expr, err error) schema.Pos {
	var fe *file.Error
	if !errors.As(err, &fe) || fe.Line == 0 {
		return e.Pos
	}
	if fe.Line == 1 {
		return schema.Pos{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col + fe.Column}
	}
	return schema.Pos{File: e.Pos.File, Line: e.Pos.Line + fe.Line - 1, Col: fe.Column + 1}
}

func exprMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}
