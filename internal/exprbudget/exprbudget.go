// Package exprbudget bounds, before it runs, how much work one evaluation of
// an expr-lang expression may do. The expr VM cannot be interrupted: an
// expression such as five nested all(1..100, ...) runs 10^10 steps without
// allocating (expr's memory budget never trips), ignoring Ctrl-C. Check
// walks the expression's syntax tree and estimates an upper bound of its
// steps: a predicate builtin (all, any, map, filter, count, reduce, ...)
// costs the length of its collection times its predicate's cost, so nested
// loops multiply. The length of a collection is known when it is written
// (a literal range `1..100`, an array literal) and assumed otherwise.
//
// The estimate is deliberately simple and static: it never evaluates
// anything, and it errs on the side of cost (both branches of a condition
// are not added, the dearer one is taken). It cannot see a length that is
// computed (`1..(1000 * 1000)` counts as UnknownLen items), so callers also
// bound the time of each evaluation from outside the VM ([DefaultTimeout]),
// and compile with expr.MaxNodes([MaxNodes]).
package exprbudget

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/planrun/planrun/internal/humanize"
)

// Limits of one evaluation. A zero field takes its default.
type Limits struct {
	// MaxSteps bounds the estimated steps of one evaluation. Default
	// DefaultMaxSteps.
	MaxSteps float64
	// MaxDepth bounds how deeply predicate builtins nest (all inside map
	// inside filter is 3). Default DefaultMaxDepth.
	MaxDepth int
	// UnknownLen is the length assumed for a collection whose length is not
	// written in the expression (`1..user`, a variable, a function's
	// result). Default DefaultUnknownLen.
	UnknownLen float64
	// CallCost, when set, returns the steps of a call to a function of the
	// environment, beyond the cost of its arguments (e.g. randString(n)
	// costs n); ok false means one step.
	CallCost func(name string, args []ast.Node) (steps float64, ok bool)
}

// Defaults. A million steps of nested all() take about 250 ms on a busy
// 2-core machine; the default allows a tenth of that.
const (
	DefaultMaxSteps   = 100_000
	DefaultMaxDepth   = 3
	DefaultUnknownLen = 100
)

// MaxNodes bounds the syntax tree of one expression (expr's
// expr.MaxNodes option): 2,000 nodes, e.g. a list literal of about 2,000
// items. It bounds the time and memory of compiling a plan's expressions;
// a longer list belongs in a table.
const MaxNodes = 2000

// DefaultTimeout is the wall-clock budget of one evaluation, enforced from
// outside the VM by the caller (the static estimate cannot know every
// list's length): 1 s, about 40 times what the static budget allows, so
// that a busy machine does not trip it. An evaluation past it is
// abandoned: its goroutine is left to finish on its own, and the
// expression is not evaluated again in the run.
const DefaultTimeout = time.Second

// TooManyNodes reports whether err is expr's error for an expression over
// its node budget (see [MaxNodes]).
func TooManyNodes(err error) bool {
	return err != nil && strings.Contains(err.Error(), "exceeds maximum allowed nodes")
}

func (l Limits) withDefaults() Limits {
	if l.MaxSteps <= 0 {
		l.MaxSteps = DefaultMaxSteps
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.UnknownLen <= 0 {
		l.UnknownLen = DefaultUnknownLen
	}
	return l
}

// CheckSource parses src and checks it against lim (see [Check]). A syntax
// error is not reported: compiling the expression reports it. The error,
// when not nil, is bound to src (Line and Column set, Snippet filled), as
// expr's own compile errors are.
func CheckSource(src string, lim Limits) *file.Error {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	if e := Check(tree.Node, lim); e != nil {
		return e.Bind(tree.Source)
	}
	return nil
}

// Check returns nil when one evaluation of the expression node stays within
// lim, otherwise an error located (Location, in runes) at the innermost
// node whose estimated cost goes over: the loop to make smaller. Call
// Bind with the expression's source for its line and column.
//
// node should be the tree as parsed (parser.Parse), before expr's
// optimizer: folded constants are measured too, but the optimizer may merge
// or rewrite loops.
func Check(node ast.Node, lim Limits) *file.Error {
	c := &checker{lim: lim.withDefaults(), vars: map[string]float64{}}
	steps, _ := c.walk(node, 0)
	if c.err == nil && steps > c.lim.MaxSteps && node != nil {
		c.over(node, fmt.Sprintf("the expression may take about %s steps per evaluation", count(steps)))
	}
	return c.err
}

// Estimate returns the estimated steps of one evaluation of node, without
// a limit (see [Check] for what it counts).
func Estimate(node ast.Node, lim Limits) float64 {
	lim = lim.withDefaults()
	lim.MaxSteps, lim.MaxDepth = math.Inf(1), math.MaxInt
	c := &checker{lim: lim, vars: map[string]float64{}}
	steps, _ := c.walk(node, 0)
	return steps
}

// unknown is the length of a value that is not a collection of known length.
const unknown = -1

type checker struct {
	lim  Limits
	err  *file.Error
	vars map[string]float64 // known lengths of `let` variables in scope
}

// fail records the first problem found, at n.
func (c *checker) fail(n ast.Node, msg string) {
	if c.err == nil {
		c.err = &file.Error{Location: n.Location(), Message: msg}
	}
}

// over records, at n, that n's cost (what msg says) goes over the budget.
func (c *checker) over(n ast.Node, msg string) {
	c.fail(n, fmt.Sprintf("%s, more than the budget of %s", msg, count(c.lim.MaxSteps)))
}

// length is the length to count for a collection: known, or assumed.
func (c *checker) length(size float64) float64 {
	if size == unknown {
		return c.lim.UnknownLen
	}
	return size
}

// walk returns the estimated steps of one evaluation of n and, when n
// yields a collection whose length is known statically, that length
// (unknown otherwise). depth is the number of predicates n is inside.
func (c *checker) walk(n ast.Node, depth int) (steps, size float64) {
	if n == nil {
		return 0, unknown
	}
	steps, size = c.node(n, depth)
	if steps > c.lim.MaxSteps {
		switch n := n.(type) {
		case *ast.BuiltinNode:
			c.over(n, fmt.Sprintf("`%s` may take about %s steps per evaluation", n.Name, count(steps)))
		case *ast.BinaryNode:
			if n.Operator == ".." {
				c.over(n, fmt.Sprintf("the range holds %s numbers", count(size)))
			}
		case *ast.CallNode:
			c.over(n, fmt.Sprintf("the call may take about %s steps", count(steps)))
		}
	}
	return steps, size
}

func (c *checker) node(n ast.Node, depth int) (steps, size float64) {
	switch n := n.(type) {
	case *ast.ConstantNode:
		v := reflect.ValueOf(n.Value)
		if v.Kind() == reflect.Slice || v.Kind() == reflect.Array || v.Kind() == reflect.Map {
			return 1, float64(v.Len())
		}
		return 1, unknown
	case *ast.IdentifierNode:
		if l, ok := c.vars[n.Value]; ok {
			return 1, l
		}
		return 1, unknown
	case *ast.UnaryNode:
		s, _ := c.walk(n.Node, depth)
		return s + 1, unknown
	case *ast.BinaryNode:
		return c.binary(n, depth)
	case *ast.ChainNode:
		return c.walk(n.Node, depth)
	case *ast.MemberNode:
		s1, _ := c.walk(n.Node, depth)
		s2, _ := c.walk(n.Property, depth)
		return s1 + s2 + 1, unknown
	case *ast.SliceNode:
		s1, l := c.walk(n.Node, depth)
		s2, _ := c.walk(n.From, depth)
		s3, _ := c.walk(n.To, depth)
		return s1 + s2 + s3 + c.length(l), l
	case *ast.CallNode:
		steps = 1
		for _, a := range n.Arguments {
			s, _ := c.walk(a, depth)
			steps += s
		}
		s, _ := c.walk(n.Callee, depth)
		steps += s
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && c.lim.CallCost != nil {
			if extra, ok := c.lim.CallCost(id.Value, n.Arguments); ok {
				steps += extra
			}
		}
		return steps, unknown
	case *ast.BuiltinNode:
		return c.builtin(n, depth)
	case *ast.PredicateNode:
		return c.walk(n.Node, depth)
	case *ast.ConditionalNode:
		s0, _ := c.walk(n.Cond, depth)
		s1, l1 := c.walk(n.Exp1, depth)
		s2, l2 := c.walk(n.Exp2, depth)
		if l1 != l2 {
			l1 = unknown
		}
		return s0 + max(s1, s2) + 1, l1
	case *ast.VariableDeclaratorNode:
		s1, l := c.walk(n.Value, depth)
		old, had := c.vars[n.Name]
		c.vars[n.Name] = l
		s2, l2 := c.walk(n.Expr, depth)
		if had {
			c.vars[n.Name] = old
		} else {
			delete(c.vars, n.Name)
		}
		return s1 + s2 + 1, l2
	case *ast.SequenceNode:
		size = unknown
		for _, x := range n.Nodes {
			var s float64
			s, size = c.walk(x, depth)
			steps += s
		}
		return steps, size
	case *ast.ArrayNode:
		steps = 1
		for _, x := range n.Nodes {
			s, _ := c.walk(x, depth)
			steps += s
		}
		return steps, float64(len(n.Nodes))
	case *ast.MapNode:
		steps = 1
		for _, x := range n.Pairs {
			s, _ := c.walk(x, depth)
			steps += s
		}
		return steps, float64(len(n.Pairs))
	case *ast.PairNode:
		s1, _ := c.walk(n.Key, depth)
		s2, _ := c.walk(n.Value, depth)
		return s1 + s2, unknown
	}
	// Literals, nil, pointers (#, #index, #acc): one step.
	return 1, unknown
}

func (c *checker) binary(n *ast.BinaryNode, depth int) (steps, size float64) {
	s1, l1 := c.walk(n.Left, depth)
	s2, l2 := c.walk(n.Right, depth)
	steps = s1 + s2 + 1
	switch n.Operator {
	case "..":
		size = unknown
		lo, ok1 := intLiteral(n.Left)
		hi, ok2 := intLiteral(n.Right)
		if ok1 && ok2 {
			size = max(0, float64(hi)-float64(lo)+1)
		}
		return steps + c.length(size), size
	case "in", "not in":
		return steps + c.length(l2), unknown
	case "+":
		if l1 != unknown && l2 != unknown {
			return steps + l1 + l2, l1 + l2 // array concatenation
		}
	}
	return steps, unknown
}

// copies are the builtins that return a collection as long as their first
// argument.
var copies = map[string]bool{"filter": true, "map": true, "sortBy": true, "sort": true, "reverse": true, "uniq": true}

func (c *checker) builtin(n *ast.BuiltinNode, depth int) (steps, size float64) {
	fn, ok := builtin.Index[n.Name]
	predicate := ok && builtin.Builtins[fn].Predicate
	if !predicate || len(n.Arguments) < 2 {
		steps = 1
		size = unknown
		for i, a := range n.Arguments {
			s, l := c.walk(a, depth)
			steps += s
			if l != unknown {
				steps += l // the builtin reads the whole collection
			}
			if i == 0 && copies[n.Name] {
				size = l
			}
		}
		if n.Name == "repeat" && len(n.Arguments) == 2 {
			if times, ok := intLiteral(n.Arguments[1]); ok && times > 0 {
				steps += float64(times)
			}
		}
		return steps, size
	}
	if depth+1 > c.lim.MaxDepth {
		c.fail(n, fmt.Sprintf("`%s` nests loops (all, any, map, filter, ...) %d deep, more than %d", n.Name, depth+1, c.lim.MaxDepth))
	}
	s0, l0 := c.walk(n.Arguments[0], depth)
	body, _ := c.walk(n.Arguments[1], depth+1)
	steps = s0 + c.length(l0)*(body+1) + 1
	for _, a := range n.Arguments[2:] {
		s, _ := c.walk(a, depth)
		steps += s
	}
	if copies[n.Name] {
		return steps, l0
	}
	return steps, unknown
}

// intLiteral returns the value of an integer literal, negated or not.
func intLiteral(n ast.Node) (int, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return n.Value, true
	case *ast.UnaryNode:
		if v, ok := intLiteral(n.Node); ok && n.Operator == "-" {
			return -v, true
		}
	case *ast.ConstantNode:
		v, ok := n.Value.(int)
		return v, ok
	}
	return 0, false
}

// count renders an estimate of steps or items for people: 1,000,000, or
// 1e+20 past what an int64 holds.
func count(f float64) string {
	if f < 1e15 {
		return humanize.Int(int64(math.Round(f)))
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}
