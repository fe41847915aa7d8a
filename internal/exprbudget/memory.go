package exprbudget

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm/runtime"
	"github.com/planrun/planrun/internal/humanize"
)

// Memory limits of one evaluation. The static estimate ([Check]) counts
// steps, not what a step builds: `reduce(1..34, #acc + #acc, "x")` is 34
// steps, each doubling a string, 16 GB at the end. Three bounds apply at
// run time, each failing the evaluation with an error (an `args` error, a
// check outcome `error`), never panicking:
//
//   - expr's own VM.MemoryBudget ([VMMemoryBudget]) counts the items of the
//     arrays, maps and ranges the VM builds;
//   - every string or array that `+` or a building builtin (repeat,
//     replace, join, concat, flatten, split, splitAfter, toJSON, string,
//     toBase64) would build is measured before it is built and refused
//     past [MaxLen];
//   - what those build is counted against [MaxBytes] per evaluation with a
//     [Meter]: the environment's ([Metered], [MemoryOptions]) or the
//     program's ([MeteredOptions]).
const (
	// MaxLen bounds a string (in bytes) or an array (in items) built
	// during an evaluation: 1 MiB, or 1,048,576 items. It is also
	// randString's limit.
	MaxLen = 1 << 20
	// MaxBytes bounds what the operators and builtins above build during
	// one evaluation, counted with a [Meter]: 64 MiB (a string counts its
	// bytes, an array 16 bytes an item).
	MaxBytes = 64 << 20
	// VMMemoryBudget is expr's vm.VM.MemoryBudget, the number of array,
	// map and range items one evaluation may build: expr's default of
	// 1,000,000 (conf.DefaultMemoryBudget), which a zero vm.VM takes.
	VMMemoryBudget = 1_000_000
)

// itemBytes is what an array item counts against [MaxBytes]: the size of
// an interface value.
const itemBytes = 16

// ErrMemory is the error (wrapped) of an evaluation refused by one of the
// memory limits above.
var ErrMemory = errors.New("the expression builds too much")

// OverMemory reports whether err is an evaluation refused for memory: one
// of planrun's limits, or expr's VM.MemoryBudget.
func OverMemory(err error) bool {
	return err != nil && (errors.Is(err, ErrMemory) || strings.Contains(err.Error(), "memory budget exceeded"))
}

// Meter counts the bytes one evaluation built, against [MaxBytes]. The
// zero value is ready; it is not safe for concurrent use (one evaluation
// runs on one goroutine).
type Meter struct{ used int64 }

// Reset starts a new evaluation.
func (m *Meter) Reset() { m.used = 0 }

// Used returns the bytes counted since the last Reset.
func (m *Meter) Used() int64 { return m.used }

// Metered is an environment that counts what its evaluations build: its
// ExprMeter returns the meter of the evaluation under way (resetting it
// when a new one began). An environment that is not Metered gets the
// per-value [MaxLen] and expr's budget only.
type Metered interface{ ExprMeter() *Meter }

// hiddenEnv is the identifier the patch passes as the first argument of
// the checked functions: expr's name for the whole environment.
const hiddenEnv = "$env"

// addFunc and concatFunc replace `+` where it may join strings.
const (
	addFunc    = "_planrun_add"
	concatFunc = "_planrun_concat"
)

// building are the builtins that build a string or an array larger than
// their arguments; [MemoryOptions] replaces each by a checked version.
var building = []string{"repeat", "replace", "join", "concat", "flatten", "split", "splitAfter", "toJSON", "string", "toBase64"}

// MemoryOptions returns the expr options that enforce [MaxLen] and
// [MaxBytes]: `+` on strings (or on values of unknown type) and the
// builtins that build strings or arrays are replaced by checked functions
// that get the environment as a hidden first argument, counting against
// its meter when it is [Metered]. Pass them with expr.Compile, after
// expr.Env.
func MemoryOptions() []expr.Option {
	return memoryOptions(func() ast.Node { return &ast.IdentifierNode{Value: hiddenEnv} })
}

// MeteredOptions is [MemoryOptions] counting against m, for a program
// whose evaluations never overlap (a check: the caller resets m before
// each evaluation) and whose environment carries no meter.
func MeteredOptions(m *Meter) []expr.Option {
	return memoryOptions(func() ast.Node { return &ast.ConstantNode{Value: m} })
}

// ExprMeter makes a Meter its own [Metered].
func (m *Meter) ExprMeter() *Meter { return m }

func memoryOptions(hidden func() ast.Node) []expr.Option {
	opts := []expr.Option{
		expr.Patch(memoryPatch{hidden: hidden}),
		function(&builtinFunction{name: addFunc, types: []reflect.Type{reflect.TypeOf(new(func(any, any, any) any)).Elem()}, call: checkedAdd}),
		function(&builtinFunction{name: concatFunc, types: []reflect.Type{reflect.TypeOf(new(func(any, string, string) string)).Elem()}, call: checkedAdd}),
	}
	for _, name := range building {
		opts = append(opts, function(wrapBuiltin(name)))
	}
	return opts
}

// builtinFunction is a checked function before it is registered.
type builtinFunction struct {
	name     string
	types    []reflect.Type
	validate func(args []reflect.Type) (reflect.Type, error)
	call     func(m *Meter, args []any) (any, error)
}

func function(f *builtinFunction) expr.Option {
	return func(c *conf.Config) {
		c.Functions[f.name] = &builtin.Function{
			Name:     f.name,
			Types:    f.types,
			Validate: f.validate,
			Func: func(args ...any) (any, error) {
				var m *Meter
				if e, ok := args[0].(Metered); ok {
					m = e.ExprMeter()
				}
				return f.call(m, args[1:])
			},
		}
	}
}

var anyType = reflect.TypeOf(new(any)).Elem()

// wrapBuiltin returns the checked version of expr's builtin name: the same
// types with the environment first, the same implementation, measured
// before (see [estimate]) and after.
func wrapBuiltin(name string) *builtinFunction {
	orig := builtin.Builtins[builtin.Index[name]]
	f := &builtinFunction{name: name}
	for _, t := range orig.Types {
		in := []reflect.Type{anyType}
		for i := 0; i < t.NumIn(); i++ {
			in = append(in, t.In(i))
		}
		out := make([]reflect.Type, t.NumOut())
		for i := range out {
			out[i] = t.Out(i)
		}
		f.types = append(f.types, reflect.FuncOf(in, out, t.IsVariadic()))
	}
	if orig.Validate != nil {
		f.validate = func(args []reflect.Type) (reflect.Type, error) {
			if len(args) == 0 {
				return orig.Validate(args)
			}
			return orig.Validate(args[1:])
		}
	}
	f.call = func(m *Meter, args []any) (any, error) {
		for i := range args {
			args[i] = deref(args[i])
		}
		if n := estimate(name, args); n > MaxLen {
			return nil, tooLong(name, n)
		}
		var out any
		var err error
		switch {
		case orig.Fast != nil:
			out = orig.Fast(args[0])
		case orig.Safe != nil:
			out, _, err = orig.Safe(args...)
		default:
			out, err = orig.Func(args...)
		}
		if err != nil {
			return nil, err
		}
		return out, charge(m, name, out)
	}
	return f
}

// checkedAdd is `+` with its operands measured first when both are
// strings; any other pair is expr's own addition.
func checkedAdd(m *Meter, args []any) (any, error) {
	a, b := args[0], args[1]
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			if n := len(x) + len(y); n > MaxLen {
				return nil, tooLong("+", n)
			}
			s := x + y
			return s, charge(m, "+", s)
		}
	}
	return runtime.Add(a, b), nil
}

func tooLong(op string, n int) error {
	return fmt.Errorf("%w: `%s` would build a string or array of %s bytes or items, more than the limit of %s", ErrMemory, op, humanize.Int(int64(n)), humanize.Int(MaxLen))
}

// charge counts v, just built by op, against m and MaxLen.
func charge(m *Meter, op string, v any) error {
	var n, bytes int
	switch v := v.(type) {
	case string:
		n, bytes = len(v), len(v)
	case []any:
		n, bytes = len(v), len(v)*itemBytes
	case []string:
		n, bytes = len(v), len(v)*itemBytes
	default:
		return nil
	}
	if n > MaxLen {
		return tooLong(op, n)
	}
	if m == nil {
		return nil
	}
	m.used += int64(bytes)
	if m.used > MaxBytes {
		return fmt.Errorf("%w: the evaluation built more than %s bytes of strings and arrays", ErrMemory, humanize.Int(MaxBytes))
	}
	return nil
}

// estimate returns, without building it, about the length of what the
// builtin name builds from args (bytes of a string, items of an array),
// or 0 when the builtin cannot grow past its arguments. Deep sizes stop
// counting past MaxLen, so that a tree of shared arrays 2^34 leaves wide
// is not walked to the end.
func estimate(name string, args []any) int {
	str := func(i int) (string, bool) {
		if i >= len(args) {
			return "", false
		}
		s, ok := args[i].(string)
		return s, ok
	}
	switch name {
	case "repeat":
		s, _ := str(0)
		n := runtime.ToInt(args[1])
		if n > 0 && len(s) > 0 && n > (MaxLen+1)/len(s) {
			return MaxLen + 1
		}
		return len(s) * max(n, 0)
	case "replace":
		s, _ := str(0)
		old, _ := str(1)
		repl, _ := str(2)
		if len(repl) <= len(old) {
			return len(s)
		}
		k := utf8.RuneCountInString(s) + 1
		if old != "" {
			k = strings.Count(s, old)
		}
		if len(args) == 4 {
			if n := runtime.ToInt(args[3]); n >= 0 {
				k = min(k, n)
			}
		}
		return len(s) + k*(len(repl)-len(old))
	case "split", "splitAfter":
		s, _ := str(0)
		return len(s) + 1
	case "join":
		glue, _ := str(1)
		v := reflect.ValueOf(args[0])
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return 0
		}
		n := v.Len() * len(glue)
		for i := 0; i < v.Len() && n <= MaxLen; i++ {
			n += deepSize(v.Index(i).Interface(), MaxLen+1-n)
		}
		return n
	case "concat", "flatten", "toJSON", "string", "toBase64":
		n := 0
		for _, a := range args {
			n += deepSize(a, MaxLen+1-n)
			if n > MaxLen {
				break
			}
		}
		if name == "toBase64" {
			n = n / 3 * 4
		}
		return n
	}
	return 0
}

// deepSize returns the bytes of v's strings plus the number of its items,
// walking arrays and maps, and stops once it passes limit.
func deepSize(v any, limit int) int {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		return len(v)
	}
	rv := reflect.ValueOf(v)
	n := 0
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		n = rv.Len()
		for i := 0; i < rv.Len() && n <= limit; i++ {
			n += deepSize(rv.Index(i).Interface(), limit-n)
		}
	case reflect.Map:
		n = rv.Len()
		it := rv.MapRange()
		for it.Next() && n <= limit {
			n += deepSize(it.Key().Interface(), limit-n)
			n += deepSize(it.Value().Interface(), limit-n)
		}
	case reflect.Pointer:
		if !rv.IsNil() {
			return deepSize(rv.Elem().Interface(), limit)
		}
	default:
		return 8 // a number, a time: about the width it prints in
	}
	return n
}

// deref returns what a pointer points to, as expr's builtins expect.
func deref(v any) any {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return v
	}
	return rv.Interface()
}

// memoryPatch routes `+` on strings or unknown types to the checked
// addition and passes the environment to the checked builtins.
type memoryPatch struct {
	hidden func() ast.Node // the hidden first argument
}

func (p memoryPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" {
			return
		}
		l, r := kindOf(n.Left), kindOf(n.Right)
		var fn string
		switch {
		case l == reflect.String && r == reflect.String:
			fn = concatFunc
		case (l == reflect.String || l == reflect.Interface) && (r == reflect.String || r == reflect.Interface):
			fn = addFunc
		default:
			return
		}
		ast.Patch(node, &ast.CallNode{
			Callee:    &ast.IdentifierNode{Value: fn},
			Arguments: []ast.Node{p.hidden(), n.Left, n.Right},
		})
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || !isBuilding(id.Value) {
			return
		}
		if len(n.Arguments) > 0 && isHidden(n.Arguments[0]) {
			return
		}
		n.Arguments = append([]ast.Node{p.hidden()}, n.Arguments...)
	}
}

// isHidden reports whether n is a hidden argument the patch added.
func isHidden(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value == hiddenEnv
	case *ast.ConstantNode:
		_, ok := n.Value.(*Meter)
		return ok
	}
	return false
}

func isBuilding(name string) bool {
	for _, b := range building {
		if b == name {
			return true
		}
	}
	return false
}

// kindOf is the static kind of n's type; Interface when unknown.
func kindOf(n ast.Node) reflect.Kind {
	t := n.Type()
	if t == nil {
		return reflect.Interface
	}
	return t.Kind()
}
