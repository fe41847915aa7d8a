package assertions

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/planrun/planrun/internal/suggest"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// Set is a plan's assertions, compiled. Its programs are immutable and may be
// shared; [Set.Evaluate] and the function [Set.Live] returns each use their
// own expr VM.
type Set struct {
	items []*compiled
	// pass and fail are the verdict labels (schema defaults when the plan has none).
	pass, fail string

	mu    sync.Mutex
	abort *liveAbort // the live abort that stopped the run, if any
}

// compiled is one assertion, compiled, with what the check references.
type compiled struct {
	a        schema.Assertion
	severity results.Severity
	program  *vm.Program
	// refs are the dotted names the check reads, in source order, deduplicated.
	refs []string
	// groups are the certificate criteria the check counts in.
	groups []string
	// scenarios narrows the assertion; nil means every scenario.
	scenarios map[string]bool
}

// references reports whether the check reads a name starting with prefix
// (the name itself or a member of it).
func (c *compiled) references(prefix string) bool {
	for _, r := range c.refs {
		if r == prefix || strings.HasPrefix(r, prefix+".") {
			return true
		}
	}
	return false
}

func (c *compiled) appliesTo(scenario string) bool {
	return c.scenarios == nil || c.scenarios[scenario]
}

// Compile compiles every assertion in plan.Assertions against the environment.
// The error, if any, is a schema.Errors with file:line:col positions pointing
// at what the user wrote.
func Compile(plan *schema.Plan) (*Set, error) {
	s := &Set{pass: plan.Verdict.Pass, fail: plan.Verdict.Fail}
	if s.pass == "" {
		s.pass = schema.DefaultVerdictPass
	}
	if s.fail == "" {
		s.fail = schema.DefaultVerdictFail
	}
	var errs schema.Errors
	for _, a := range plan.Assertions {
		c, es := compileOne(a, plan.File)
		errs = append(errs, es...)
		if c != nil {
			s.items = append(s.items, c)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// exprOptions are the options every check is compiled with: the typed
// environment, constant duration("...") calls, and duration arithmetic that
// expr lacks (a duration times or divided by a float, the ratio of two
// durations).
var exprOptions = []expr.Option{
	expr.Env(Env{}),
	expr.Patch(durationFolder{}),
	expr.Function("durationTimes", durationTimes,
		new(func(time.Duration, float64) time.Duration),
		new(func(float64, time.Duration) time.Duration)),
	expr.Function("durationDiv", durationDiv,
		new(func(time.Duration, time.Duration) float64),
		new(func(time.Duration, float64) time.Duration),
		new(func(time.Duration, int) time.Duration)),
	expr.Operator("*", "durationTimes"),
	expr.Operator("/", "durationDiv"),
}

// checkSource locates one check's text in the plan file.
type checkSource struct {
	name string
	orig []rune
	rw   rewritten
	pos  schema.Pos // of the first character of the check
	file string
}

// at returns the plan position of a rune offset in the rewritten source.
// Later lines of a multi-line check (a YAML block scalar) start at the
// check's own column, where the block's indentation ends.
func (cs *checkSource) at(off int) schema.Pos {
	o := cs.rw.original(off)
	if o > len(cs.orig) {
		o = len(cs.orig)
	}
	line, col := 0, 0
	for _, r := range cs.orig[:o] {
		if r == '\n' {
			line++
			col = 0
		} else {
			col++
		}
	}
	p := cs.pos
	if p.File == "" {
		p.File = cs.file
	}
	if p.Line == 0 { // no position known: relative to the check
		return schema.Pos{File: p.File, Line: 0}
	}
	p.Line += line
	p.Col += col
	return p
}

// errorf records an error at a rune offset of the rewritten source. When the
// check has no known position the offset is named in the message.
func (cs *checkSource) errorf(errs *schema.Errors, off int, hint, format string, args ...any) {
	msg := fmt.Sprintf("assertion %q: ", cs.name) + fmt.Sprintf(format, args...)
	p := cs.at(off)
	if p.Line == 0 {
		msg += fmt.Sprintf(" (at character %d of the check)", cs.rw.original(off)+1)
	}
	errs.Add(p, hint, "%s", msg)
}

func compileOne(a schema.Assertion, planFile string) (*compiled, schema.Errors) {
	var errs schema.Errors
	pos := a.Check.Pos
	if pos.Line == 0 {
		pos = a.Pos
	}
	cs := &checkSource{name: a.Name, orig: []rune(a.Check.Src), rw: rewriteDurations(a.Check.Src), pos: pos, file: planFile}
	if strings.TrimSpace(a.Check.Src) == "" {
		cs.errorf(&errs, 0, "write a boolean expression, e.g. `acquire.p95 < 200ms`", "check is empty")
		return nil, errs
	}
	c := &compiled{a: a, severity: results.Severity(a.Severity)}
	if c.severity == "" {
		c.severity = results.SeverityCritical
	}
	if len(a.Scenarios) > 0 {
		c.scenarios = map[string]bool{}
		for _, s := range a.Scenarios {
			c.scenarios[s] = true
		}
	}

	tree, err := parser.Parse(cs.rw.src)
	if err != nil {
		addExprError(cs, &errs, err)
		return nil, errs
	}
	c.refs = checkNames(cs, tree.Node, &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	c.groups = groupsOf(c.refs)

	program, err := expr.Compile(cs.rw.src, exprOptions...)
	if err != nil {
		addExprError(cs, &errs, err)
		return nil, errs
	}
	if t := program.Node().Type(); t != nil && t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
		cs.errorf(&errs, 0, "compare the value, e.g. `acquire.p95 < 200ms` or `leaks == 0`",
			"check must be true or false, but it is %s", describeType(t))
		return nil, errs
	}
	c.program = program
	return c, nil
}

// addExprError turns an expr error into a positioned schema error.
func addExprError(cs *checkSource, errs *schema.Errors, err error) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		cs.errorf(errs, 0, "", "%v", err)
		return
	}
	msg := fe.Message
	off := fe.From
	hint := ""
	if strings.HasPrefix(msg, "bad number syntax") {
		// expr points into the middle of `200msec`: point at the word and name it.
		src := []rune(cs.rw.src)
		start, end := min(off, len(src)), min(off, len(src))
		for start > 0 && (isWordRune(src[start-1]) || src[start-1] == '.') {
			start--
		}
		for end < len(src) && isWordRune(src[end]) {
			end++
		}
		off = start
		msg = fmt.Sprintf("`%s` is neither a number nor a duration", string(src[start:end]))
	}
	switch {
	case strings.Contains(msg, "mismatched types time.Duration and float64"),
		strings.Contains(msg, "mismatched types float64 and time.Duration"),
		strings.Contains(msg, "mismatched types time.Duration and int"),
		strings.Contains(msg, "mismatched types int and time.Duration"):
		hint = "durations compare with durations: write a literal with a unit (`200ms`, `1.5s`) or duration(\"200ms\")"
	case strings.HasSuffix(msg, "is neither a number nor a duration"):
		hint = "duration literals are a number and a unit: ns, us (µs), ms, s, m, h — e.g. `200ms`, `1m30s`"
	}
	cs.errorf(errs, off, hint, "%s", msg)
}

// checkNames walks the parsed check: it validates every name against the
// environment (with a did-you-mean hint), every constant duration("...")
// argument, and returns the names read, in source order.
func checkNames(cs *checkSource, root ast.Node, errs *schema.Errors) []string {
	var (
		candidates []ast.Node
		inner      = map[ast.Node]bool{}
		methods    []*ast.MemberNode
		funcs      = map[ast.Node]bool{}
		lets       = map[string]bool{}
	)
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		switch x := (*n).(type) {
		case *ast.IdentifierNode:
			candidates = append(candidates, x)
		case *ast.MemberNode:
			inner[x.Node] = true
			candidates = append(candidates, x)
		case *ast.CallNode:
			funcs[x.Callee] = true
			if m, ok := x.Callee.(*ast.MemberNode); ok {
				methods = append(methods, m)
			}
		case *ast.VariableDeclaratorNode:
			lets[x.Name] = true
		case *ast.BuiltinNode:
			if x.Name == "duration" && len(x.Arguments) == 1 {
				if s, ok := x.Arguments[0].(*ast.StringNode); ok {
					if _, err := time.ParseDuration(s.Value); err != nil {
						cs.errorf(errs, s.Location().From, "durations are Go-style: `250ms`, `1.5s`, `1m30s`",
							"bad duration %q: %s", s.Value, strings.TrimPrefix(err.Error(), "time: "))
					}
				}
			}
		}
	}))
	// A method call reads the object it is called on: `acquire.p95.Seconds()`.
	for _, m := range methods {
		delete(inner, m.Node)
	}

	type found struct {
		name string
		from int
	}
	var refs []found
	for _, n := range candidates {
		if inner[n] || funcs[n] {
			continue
		}
		segs, ok := chainOf(n)
		if !ok || lets[segs[0].name] {
			continue
		}
		name, ok := resolve(cs, segs, errs)
		if ok {
			refs = append(refs, found{name, segs[0].from})
		}
	}
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].from < refs[j].from })
	var out []string
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.name] {
			seen[r.name] = true
			out = append(out, r.name)
		}
	}
	return out
}

// segment is one part of a dotted name and where it starts.
type segment struct {
	name string
	from int
}

// chainOf returns the dotted name of an identifier or a member chain with
// constant properties rooted at an identifier (`baseline.acquire.p95`).
func chainOf(n ast.Node) ([]segment, bool) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return []segment{{x.Value, x.Location().From}}, true
	case *ast.ChainNode:
		return chainOf(x.Node)
	case *ast.MemberNode:
		p, ok := x.Property.(*ast.StringNode)
		if !ok {
			return nil, false
		}
		head, ok := chainOf(x.Node)
		if !ok {
			return nil, false
		}
		return append(head, segment{p.Value, p.Location().From}), true
	}
	return nil, false
}

// resolve checks one dotted name against the environment. It reports an
// unknown name at its first unknown part, with a did-you-mean hint, and a
// group used as a value (`acquire < 200ms`) with the list of its members.
func resolve(cs *checkSource, segs []segment, errs *schema.Errors) (string, bool) {
	name := ""
	for i, s := range segs {
		if i > 0 {
			name += "."
		}
		name += s.name
		info, ok := names[name]
		if !ok {
			full := joinSegments(segs)
			hint := ""
			if sug := suggest.Closest(full, leafNames); sug != "" {
				hint = "did you mean `" + sug + "`?"
			} else if ms := endingIn(full); len(ms) > 0 {
				hint = "did you mean " + strings.Join(quoteEach(ms), " or ") + "?"
			} else if i > 0 {
				parent := joinSegments(segs[:i])
				hint = "`" + parent + "` has " + quoteList(membersOf(parent))
			} else {
				hint = "docs/assertions.md lists every name"
			}
			cs.errorf(errs, s.from, hint, "unknown name `%s`", full)
			return "", false
		}
		if info.leaf {
			// Anything after a value (a method, a bad member) is left to expr.
			return name, true
		}
	}
	cs.errorf(errs, segs[0].from, "pick one of "+quoteList(membersOf(name)),
		"`%s` is a group of metrics, not a value", name)
	return "", false
}

// endingIn lists the names (baseline.* aside) whose last part is word, so
// that a bare `p95` suggests `acquire.p95`, `query.p95`, ...
func endingIn(word string) []string {
	var out []string
	for _, n := range leafNames {
		if strings.HasSuffix(n, "."+word) && !strings.HasPrefix(n, "baseline.") {
			out = append(out, n)
		}
	}
	return out
}

func joinSegments(segs []segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = s.name
	}
	return strings.Join(parts, ".")
}

func quoteList(names []string) string { return strings.Join(quoteEach(names), ", ") }

func quoteEach(names []string) []string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return q
}

// describeType names a check's result type for people.
func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}

type visitorFunc func(*ast.Node)

func (f visitorFunc) Visit(n *ast.Node) { f(n) }

// durationFolder replaces duration("<constant>") by its value, so literals
// cost nothing at run time and compare as time.Duration. Bad constants were
// reported by checkNames before expr compiles.
type durationFolder struct{}

func (durationFolder) Visit(n *ast.Node) {
	b, ok := (*n).(*ast.BuiltinNode)
	if !ok || b.Name != "duration" || len(b.Arguments) != 1 {
		return
	}
	s, ok := b.Arguments[0].(*ast.StringNode)
	if !ok {
		return
	}
	d, err := time.ParseDuration(s.Value)
	if err != nil {
		return
	}
	ast.Patch(n, &ast.ConstantNode{Value: d})
}

// durationTimes implements duration * float and float * duration (expr
// evaluates these to a float64 of nanoseconds, which no longer compares with
// a duration).
func durationTimes(params ...any) (any, error) {
	switch a := params[0].(type) {
	case time.Duration:
		return time.Duration(float64(a) * params[1].(float64)), nil
	case float64:
		return time.Duration(a * float64(params[1].(time.Duration))), nil
	}
	return nil, fmt.Errorf("cannot multiply %T by %T", params[0], params[1])
}

// durationDiv implements duration / duration (a float ratio) and duration /
// number (a duration).
func durationDiv(params ...any) (any, error) {
	a := params[0].(time.Duration)
	switch b := params[1].(type) {
	case time.Duration:
		if b == 0 {
			return nil, errors.New("division by a zero duration")
		}
		return float64(a) / float64(b), nil
	case float64:
		if b == 0 {
			return nil, errors.New("division of a duration by zero")
		}
		return time.Duration(float64(a) / b), nil
	case int:
		if b == 0 {
			return nil, errors.New("division of a duration by zero")
		}
		return a / time.Duration(b), nil
	}
	return nil, fmt.Errorf("cannot divide %T by %T", params[0], params[1])
}
