package assertions

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/planrun/planrun/internal/exprbudget"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/suggest"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// Set is a plan's assertions and the built-in checks, compiled. Its
// programs are immutable and may be shared; [Set.Evaluate] and the function
// [Set.Live] returns each use their own expr VM.
type Set struct {
	items []*compiled
	// builtins are the built-in checks (none when turned off).
	builtins []*compiled
	// noBuiltins records that the plan turned the built-in checks off.
	noBuiltins bool
	// pass and fail are the verdict labels (schema defaults when the plan has none).
	pass, fail string
	// limits are the measurement criterion's (verdict.generator, defaults resolved).
	limits generatorLimits

	mu    sync.Mutex
	abort *liveAbort // the live abort that stopped the run, if any

	// timeout is the time budget of one evaluation of a check (tests);
	// 0: exprbudget.DefaultTimeout.
	timeout time.Duration
}

// Len is the number of the plan's assertions.
func (s *Set) Len() int { return len(s.items) }

// compiled is one assertion, compiled, with what the check references.
type compiled struct {
	a        schema.Assertion
	severity results.Severity
	program  *vm.Program
	// refs are the dotted names the check reads, in source order, deduplicated.
	refs []string
	// faultRefs are the faults[i].member reads, in source order, deduplicated.
	faultRefs []faultRef
	// groups are the certificate criteria the check counts in.
	groups []string
	// scenarios narrows the assertion; nil means every scenario.
	scenarios map[string]bool
	// runLevel: the check reads only the run's context (preflight.*,
	// server.*, rtt, pool.*, driver): it is evaluated once per run.
	runLevel bool
	// builtin is one of planrun's own checks; covers is the name whose use
	// in a plan assertion replaces it for the scenarios that assertion
	// applies to.
	builtin bool
	// serviceOnly: a built-in check judged only on scenarios that watched
	// a service under test (results.Scenario.Service set).
	serviceOnly bool
	// watchOnly: a built-in check judged only on a watch
	// (results.Scenario.Watch).
	watchOnly bool
	covers    string
	// onHTTPOnly is the built-in check judged instead of this one on a
	// scenario that sends only HTTP requests (nil: this one is).
	onHTTPOnly *compiled
	// overrun is set once an evaluation ran past its time budget: the
	// check is not evaluated again (see evaluator).
	overrun atomic.Bool
	// meter counts what one evaluation builds (exprbudget.MaxBytes); the
	// evaluator resets it before each.
	meter exprbudget.Meter
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

// Options tunes [CompileWith].
type Options struct {
	// NoBuiltins turns the built-in checks off (docs/assertions.md: discouraged).
	NoBuiltins bool
}

// Compile compiles every assertion in plan.Assertions against the
// environment, and the built-in checks unless the plan turns them off
// (verdict.builtins: false). The error, if any, is a schema.Errors with
// file:line:col positions pointing at what the user wrote.
func Compile(plan *schema.Plan) (*Set, error) {
	off := plan.Verdict.Builtins != nil && !*plan.Verdict.Builtins
	return CompileWith(plan, Options{NoBuiltins: off})
}

// CompileWith is [Compile] with options.
func CompileWith(plan *schema.Plan, opts Options) (*Set, error) {
	s := &Set{pass: plan.Verdict.Pass, fail: plan.Verdict.Fail, noBuiltins: opts.NoBuiltins, limits: limitsOf(plan.Verdict.Generator)}
	if s.pass == "" {
		s.pass = schema.DefaultVerdictPass
	}
	if s.fail == "" {
		s.fail = schema.DefaultVerdictFail
	}
	pc := newPlanContext(plan)
	var errs schema.Errors
	for _, a := range plan.Assertions {
		c, es := compileOne(a, pc)
		errs = append(errs, es...)
		if c != nil {
			s.items = append(s.items, c)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if !opts.NoBuiltins {
		s.builtins = compileBuiltins()
	}
	return s, nil
}

// planContext is what compiling a check needs to know of the plan.
type planContext struct {
	file string
	// ops lists every operation name of the plan's mixes, sorted.
	ops   []string
	isOp  map[string]bool
	scens map[string]schema.Scenario
	// service: the plan has target.service, whose figures service.* are.
	service bool
	// scenOrder lists the plan's scenarios in plan order; httpOnly holds
	// those whose mix holds only HTTP operations (schema.Mix.OnlyHTTP).
	scenOrder []string
	httpOnly  map[string]bool
	// httpOps holds the operation names that are an HTTP request in every
	// mix that has them.
	httpOps map[string]bool
}

func newPlanContext(plan *schema.Plan) *planContext {
	pc := &planContext{file: plan.File, isOp: map[string]bool{}, scens: map[string]schema.Scenario{}, service: plan.Target.Service != nil,
		httpOnly: map[string]bool{}, httpOps: map[string]bool{}}
	sqlOp := map[string]bool{}
	for _, mix := range plan.Mixes {
		for _, op := range mix {
			if !pc.isOp[op.Name] {
				pc.isOp[op.Name] = true
				pc.ops = append(pc.ops, op.Name)
			}
			if op.HTTP == "" {
				sqlOp[op.Name] = true
			}
		}
	}
	for _, name := range pc.ops {
		if !sqlOp[name] {
			pc.httpOps[name] = true
		}
	}
	sort.Strings(pc.ops)
	for _, sc := range plan.Scenarios {
		pc.scens[sc.Name] = sc
		pc.scenOrder = append(pc.scenOrder, sc.Name)
		if plan.Mixes[sc.Mix].OnlyHTTP() {
			pc.httpOnly[sc.Name] = true
		}
	}
	return pc
}

// builtinChecks are planrun's own checks (critical unless severity says
// otherwise), applied to every scenario
// unless a plan assertion on the same name (covers) applies to it. On a
// scenario that sends only HTTP requests (results.Scenario.HTTPOnly) a
// check with an httpCheck judges that instead, covered by httpCovers: the
// service's pool, not planrun's, which took no load there. A service
// check applies only to the scenarios that watched a service under test.
//
// On a watch (results.Scenario.Watch: planrun watch, no load) only the
// checks that read the service's figures are judged (the leak check as
// its httpCheck), and the watch-only ones: the guide's utilization
// warning.
var builtinChecks = []struct {
	name, check, covers, httpCheck, httpCovers string
	service, watchOnly                         bool
	severity                                   schema.Severity
}{
	{name: "built-in: operations succeeded", check: "ops - errors > 0", covers: "ops"},
	{name: "built-in: success rate at least 95%", check: "success_rate >= 0.95", covers: "success_rate"},
	{name: "built-in: no connection leaks", check: "leaks == 0", covers: "leaks", httpCheck: "service.leaks == 0", httpCovers: "service.leaks"},
	// pool: and target.service.processes describe the service's pools;
	// more backends on the server, or more connections at the proxy, than
	// they allow mean the verdict would be about another pool (a worker
	// count or an env the plan does not know).
	{name: BuiltinServicePool, check: "service.backends.max <= service.capacity && service.connections.max_open <= service.capacity",
		covers: "service.backends", service: true},
	// The guide's "set up alerts for pool utilization > 85 %", held over
	// the whole watch; a plan assertion reading service.utilization
	// replaces it (and the alerts' ceiling follows that one).
	{name: BuiltinWatchUtilization, check: "service.utilization.p95 < 0.85", covers: "service.utilization",
		service: true, watchOnly: true, severity: schema.Warning},
	// The guide's warning indicator: a pool busy above 85 % most of the
	// time needs resizing soon (a capacity signal, not a blocker). Judged
	// only where planrun's own pool took load (a scenario with SQL).
	{name: "built-in: pool utilization below 85% sustained", check: "utilization.p95 < 0.85", covers: "utilization", severity: schema.Warning},
}

// BuiltinWatchUtilization is the built-in warning of a watch: the
// service's pool was in use below 85 % of its capacity 95 % of the time.
const BuiltinWatchUtilization = "built-in: the service's pool stays below 85% utilization (p95)"

// BuiltinServicePool is the built-in check that the service's connections
// stayed within the capacity the plan describes.
const BuiltinServicePool = "built-in: the service stays within the pool the plan describes"

func compileBuiltins() []*compiled {
	pc := &planContext{isOp: map[string]bool{}, service: true}
	compile := func(name, check, covers string, severity schema.Severity) *compiled {
		c, errs := compileOne(schema.Assertion{Name: name, Check: schema.Expr{Src: check}, Severity: severity}, pc)
		if len(errs) > 0 {
			panic("built-in check does not compile: " + errs.Error())
		}
		c.builtin, c.covers = true, covers
		return c
	}
	out := make([]*compiled, 0, len(builtinChecks))
	for _, b := range builtinChecks {
		c := compile(b.name, b.check, b.covers, b.severity)
		c.watchOnly = b.watchOnly
		if c.serviceOnly = b.service; c.serviceOnly && !c.watchOnly {
			// the plan's description of the service's pool: configuration
			c.groups = []string{CriterionConfiguration}
		}
		if b.httpCheck != "" {
			c.onHTTPOnly = compile(b.name, b.httpCheck, b.httpCovers, b.severity)
		}
		out = append(out, c)
	}
	return out
}

// exprOptions are the options every check is compiled with: the typed
// environment, constant duration("...") calls, and duration arithmetic that
// expr lacks (a duration times or divided by a float, the ratio of two
// durations). Each check adds the bounds of what an evaluation builds
// (exprbudget.MeteredOptions with its own meter).
var exprOptions = []expr.Option{
	expr.Env(Env{}),
	expr.MaxNodes(exprbudget.MaxNodes),
	expr.Patch(durationFolder{}),
	expr.Patch(plainStrings{}),
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
	pc   *planContext
	// scenarios are those the assertion lists (none: every scenario);
	// onlyHTTP, when set, are the scenarios it applies to, each of which
	// sends only HTTP requests ([planContext.httpOnlyScope]).
	scenarios []string
	onlyHTTP  []string
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

func compileOne(a schema.Assertion, pc *planContext) (*compiled, schema.Errors) {
	var errs schema.Errors
	pos := a.Check.Pos
	if pos.Line == 0 {
		pos = a.Pos
	}
	cs := &checkSource{name: a.Name, orig: []rune(a.Check.Src), rw: rewriteDurations(a.Check.Src), pos: pos, file: pc.file, pc: pc,
		scenarios: a.Scenarios, onlyHTTP: pc.httpOnlyScope(a)}
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

	if checkPercent(cs, &errs) {
		return nil, errs
	}
	tree, err := parser.Parse(cs.rw.src)
	if err != nil {
		addExprError(cs, &errs, err)
		return nil, errs
	}
	c.refs = checkNames(cs, tree.Node, &errs)
	c.faultRefs = faultRefsOf(tree.Node)
	if len(errs) > 0 {
		return nil, errs
	}
	checkFractions(cs, tree.Node, &errs)
	checkRecoveryScope(c, pc, &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	if ferr := exprbudget.Check(tree.Node, exprbudget.Limits{}); ferr != nil {
		cs.errorf(&errs, ferr.From, fmt.Sprintf("a check is evaluated at the end of the run (and once a second with abort_on_fail) and cannot be interrupted: "+
			"at most about %s steps, loops (all, any, map, filter, ...) at most %d deep; a list whose length is not written counts as %d items",
			humanize.Int(exprbudget.DefaultMaxSteps), exprbudget.DefaultMaxDepth, exprbudget.DefaultUnknownLen),
			"check may run too long: %s", ferr.Message)
		return nil, errs
	}
	c.groups = groupsOf(append(append([]string(nil), c.refs...), recoveryReads(c.faultRefs)...))
	c.runLevel = isRunLevel(c.refs)

	program, err := expr.Compile(cs.rw.src, append(slices.Clip(exprOptions), exprbudget.MeteredOptions(&c.meter)...)...)
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
	if exprbudget.TooManyNodes(err) {
		msg = fmt.Sprintf("the check is too long: more than %s syntax nodes", humanize.Int(exprbudget.MaxNodes))
		hint = "split it into several assertions"
	}
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
		if ok && !cs.pc.service && isServiceName(name) {
			cs.errorf(errs, segs[0].from, "add target.service, or drop this assertion",
				"`%s` is a figure of the service under test, but the plan has no target.service: it could never be measured", name)
			ok = false
		}
		if ok {
			ok = checkOwnPoolRead(cs, name, segs[0].from, errs)
		}
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

// serviceRoot is the group of the service under test's figures (service.*).
const serviceRoot = "service"

// isServiceName reports whether a name reads the service under test's
// figures, the baseline's included.
func isServiceName(name string) bool {
	return strings.HasPrefix(strings.TrimPrefix(name, "baseline."), serviceRoot+".")
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
		if s.name == opRoot {
			return resolveOp(cs, segs, i, errs)
		}
	}
	cs.errorf(errs, segs[0].from, "pick one of "+quoteList(membersOf(name)),
		"`%s` is a group of metrics, not a value", name)
	return "", false
}

// resolveOp checks a per-operation name, segs[at] being `operations`: the
// next part must name an operation of the plan's mixes, the rest one of
// [OperationMembers].
func resolveOp(cs *checkSource, segs []segment, at int, errs *schema.Errors) (string, bool) {
	group := joinSegments(segs[:at+1])
	if len(segs) == at+1 {
		hint := "write `" + group + ".<operation>.op.p95`"
		if len(cs.pc.ops) > 0 {
			hint += "; the plan's operations: " + quoteList(cs.pc.ops)
		}
		cs.errorf(errs, segs[0].from, hint, "`%s` is a group of metrics, not a value", group)
		return "", false
	}
	op := segs[at+1]
	if !cs.pc.isOp[op.name] {
		hint := "operations are named in the plan's mixes"
		switch sug := suggest.Closest(op.name, cs.pc.ops); {
		case sug != "":
			hint = "did you mean `" + group + "." + sug + "`?"
		case len(cs.pc.ops) > 0:
			hint = "the plan's operations: " + quoteList(cs.pc.ops)
		}
		cs.errorf(errs, op.from, hint, "unknown operation `%s` in `%s`", op.name, joinSegments(segs))
		return "", false
	}
	prefix := group + "." + op.name
	member := ""
	for i, s := range segs[at+2:] {
		if i > 0 {
			member += "."
		}
		member += s.name
		info, ok := opNames[member]
		if !ok {
			hint := "an operation has " + quoteList(opMembersOf(""))
			if sug := suggest.Closest(member, opLeafNames); sug != "" {
				hint = "did you mean `" + prefix + "." + sug + "`?"
			}
			cs.errorf(errs, s.from, hint, "unknown name `%s`", joinSegments(segs))
			return "", false
		}
		if info.leaf {
			return prefix + "." + member, true
		}
	}
	what := prefix
	if member != "" {
		what += "." + member
	}
	cs.errorf(errs, segs[0].from, "pick one of "+quoteList(prefixEach(prefix+".", opMembersOf(member))),
		"`%s` is a group of metrics, not a value", what)
	return "", false
}

func prefixEach(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
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

// plainStrings reads a value of a named string type of the results
// (faults[i].status, a results.FaultStatus) as a plain string, so that a
// check compares it with a string literal: expr rejects
// `faults[0].status == "applied"` as mismatched types otherwise.
type plainStrings struct{}

func (plainStrings) Visit(n *ast.Node) {
	switch (*n).(type) {
	case *ast.MemberNode, *ast.IdentifierNode:
	default:
		return
	}
	t := (*n).Type()
	if t == nil || t.Kind() != reflect.String || t == reflect.TypeOf("") {
		return
	}
	ast.Patch(n, &ast.BuiltinNode{Name: "string", Arguments: []ast.Node{*n}})
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
