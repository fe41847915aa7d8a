package assertions_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/schema"
)

// planWith builds a plan whose assertions have checks at known positions:
// each check starts at line 10+i, column 12 of plan.yaml.
func planWith(checks ...string) *schema.Plan {
	p := &schema.Plan{File: "plan.yaml"}
	for i, c := range checks {
		p.Assertions = append(p.Assertions, schema.Assertion{
			Name:  "a" + string(rune('0'+i)),
			Check: schema.Expr{Src: c, Pos: schema.Pos{File: "plan.yaml", Line: 10 + i, Col: 12}},
			Pos:   schema.Pos{File: "plan.yaml", Line: 9 + i, Col: 5},
		})
	}
	return p
}

// withService gives p a target.service, whose figures service.* are.
func withService(p *schema.Plan) *schema.Plan {
	p.Target.Service = &schema.Service{ApplicationName: "svc"}
	return p
}

// compileErrors compiles and returns the schema errors (failing the test if
// the error is of another type).
func compileErrors(t *testing.T, p *schema.Plan) schema.Errors {
	t.Helper()
	_, err := assertions.Compile(p)
	if err == nil {
		return nil
	}
	var es schema.Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want schema.Errors: %v", err, err)
	}
	return es
}

func TestCompileAcceptsChecks(t *testing.T) {
	for _, tc := range []struct{ name, check string }{
		{"literal ms", "acquire.p95 < 200ms"},
		{"literal s", "op.max < 8s && acquire.max < 8s"},
		{"literal compound", "exhaustion.longest < 1m30s"},
		{"literal fraction", "query.p99 < 1.5s"},
		{"literal us", "connect.min > 500us"},
		{"literal micro sign", "connect.min > 500µs"},
		{"literal greek mu", "connect.min > 500μs"},
		{"literal ns", "hold.min >= 100ns"},
		{"literal h", "elapsed < 2h"},
		{"duration call", `acquire.p95 < duration("200ms")`},
		{"literal next to call", `acquire.p95 < 200ms && query.p95 < duration("500ms")`},
		{"literal inside string untouched", `driver != "200ms"`},
		{"regression bound float", "acquire.p95 < baseline.acquire.p95 * 1.2"},
		{"regression bound float left", "acquire.p95 < 1.2 * baseline.acquire.p95"},
		{"regression throughput", "throughput > baseline.throughput * 0.9"},
		{"regression ratio", "acquire.p95 / baseline.acquire.p95 < 1.2"},
		{"duration plus literal", "acquire.p95 <= baseline.acquire.p95 + 50ms"},
		{"duration divided", "acquire.p99 / 2 < 1s"},
		{"rate", "success_rate > 0.95"},
		{"configuration", `pool.size == 20 && pool.max_overflow == 30 && pool.timeout == 30s && driver == "pgx"`},
		{"preflight status", `preflight.capacity != "fail"`},
		{"let", "let p = acquire.p95; p < 200ms"},
		{"method on a duration", "acquire.p95.Seconds() < 0.2"},
		{"multi-line", "acquire.p95 < 200ms\n&& leaks == 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if es := compileErrors(t, planWith(tc.check)); es != nil {
				t.Fatalf("Compile(%q): %v", tc.check, es)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check string
		pos   string // file:line:col
		msg   string // substring of the message
		hint  string // substring of the hint
	}{
		{"unknown root", "acqiure.p95 < 200ms", "plan.yaml:10:12", "unknown name `acqiure.p95`", "did you mean `acquire.p95`?"},
		{"unknown member", "acquire.p96 < 200ms", "plan.yaml:10:20", "unknown name `acquire.p96`", "did you mean `acquire.p95`?"},
		{"unknown after literal", "acquire.p95 < 200ms && leeks == 0", "plan.yaml:10:35", "unknown name `leeks`", "did you mean `leaks`?"},
		{"unknown after micro sign", "connect.min > 500µs && leeks == 0", "plan.yaml:10:35", "unknown name `leeks`", "did you mean `leaks`?"},
		{"bare member", "p95 < 200ms", "plan.yaml:10:12", "unknown name `p95`", "did you mean `lag.p95` or `generator.timer_lateness.p95` or `generator.proxy_lateness.p95` or `acquire.p95` or `query.p95` or `op.p95` or `hold.p95` or `connect.p95` or `generator_lag.p95` or `utilization.p95` or `service.backends.p95` or `service.in_use.p95` or `service.utilization.p95` or `replicas.utilization.p95`?"},
		{"case", "Acquire.P95 < 200ms", "plan.yaml:10:12", "unknown name `Acquire.P95`", "did you mean `acquire.p95`?"},
		{"unknown far from any", "zzz > 1", "plan.yaml:10:12", "unknown name `zzz`", "docs/assertions.md"},
		{"unknown member far from any", "errors_by.zzzzzz > 1", "plan.yaml:10:22", "unknown name `errors_by.zzzzzz`", "`errors_by.acquire_timeout`"},
		{"baseline typo", "acquire.p95 < basline.acquire.p95 * 1.2", "plan.yaml:10:26", "unknown name `basline.acquire.p95`", "did you mean `baseline.acquire.p95`?"},
		{"group as value", "acquire < 200ms", "plan.yaml:10:12", "`acquire` is a group of metrics", "`acquire.p95`"},
		{"bad duration call", `acquire.p95 < duration("2x")`, "plan.yaml:10:35", `bad duration "2x"`, "Go-style"},
		{"bad literal unit", "acquire.p95 < 200msec", "plan.yaml:10:26", "`200msec` is neither a number nor a duration", "duration literals"},
		{"bad literal unit after fraction", "acquire.p95 < 1.5sec", "plan.yaml:10:26", "`1.5sec` is neither", "duration literals"},
		{"not bool duration", "acquire.p95", "plan.yaml:10:12", "must be true or false, but it is a duration", "compare"},
		{"not bool number", "leaks + 1", "plan.yaml:10:12", "must be true or false, but it is a number", ""},
		{"duration vs float", "acquire.p95 < 0.2", "plan.yaml:10:24", "mismatched types", "durations compare with durations"},
		{"syntax", "acquire.p95 < < 1s", "plan.yaml:10:26", "unexpected token", ""},
		{"multi-line block scalar", "acquire.p95 < 200ms &&\n  query.p95 < 500ms &&\n  leeks == 0", "plan.yaml:12:14", "unknown name `leeks`", "did you mean `leaks`?"},
		{"multi-line second line member", "leaks == 0 &&\nquery.p59 < 1s", "plan.yaml:11:18", "unknown name `query.p59`", "did you mean"},
		{"empty", "  ", "plan.yaml:10:12", "check is empty", ""},
		{"five nested loops", "all(1..100, all(1..100, all(1..100, all(1..100, all(1..100, ops > 0)))))", "plan.yaml:10:48",
			"check may run too long: `all` nests loops (all, any, map, filter, ...) 4 deep, more than 3", "cannot be interrupted"},
		{"a costly loop after a duration literal", "acquire.p95 < 200ms && all(1..1000, all(1..1000, ops > 0))", "plan.yaml:10:35",
			"check may run too long: `all` may take about", "at most about 100,000 steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := compileErrors(t, planWith(tc.check))
			if len(es) != 1 {
				t.Fatalf("Compile(%q) gave %d errors, want 1: %v", tc.check, len(es), es)
			}
			e := es[0]
			if got := e.Pos.String(); got != tc.pos {
				t.Errorf("position = %s, want %s (%v)", got, tc.pos, e)
			}
			if !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("message = %q, want it to contain %q", e.Msg, tc.msg)
			}
			if !strings.Contains(e.Hint, tc.hint) {
				t.Errorf("hint = %q, want it to contain %q", e.Hint, tc.hint)
			}
			if !strings.Contains(e.Msg, `assertion "a0"`) {
				t.Errorf("message = %q does not name the assertion", e.Msg)
			}
		})
	}
}

// TestCompileBlockScalarPosition mirrors a YAML block scalar:
//
//	9:    check: |
//	10:     acquire.p95 < 200ms &&
//	11:     leeks == 0
//
// The loader gives the position of the first character of the check
// (10:7); YAML strips the indentation from every line.
func TestCompileBlockScalarPosition(t *testing.T) {
	p := &schema.Plan{File: "plan.yaml", Assertions: []schema.Assertion{{
		Name:  "block",
		Check: schema.Expr{Src: "acquire.p95 < 200ms &&\nleeks == 0\n", Pos: schema.Pos{File: "plan.yaml", Line: 10, Col: 7}},
	}}}
	es := compileErrors(t, p)
	if len(es) != 1 || es[0].Pos.String() != "plan.yaml:11:7" {
		t.Fatalf("got %v, want one error at plan.yaml:11:7", es)
	}
}

func TestCompileReportsEveryError(t *testing.T) {
	es := compileErrors(t, planWith("acqiure.p95 < 1s", "leaks == 0", "leaks"))
	if len(es) != 2 {
		t.Fatalf("got %d errors, want 2: %v", len(es), es)
	}
	if es[0].Pos.Line != 10 || es[1].Pos.Line != 12 {
		t.Errorf("errors at lines %d and %d, want 10 and 12 (sorted)", es[0].Pos.Line, es[1].Pos.Line)
	}
}

func TestCompileWithoutPosition(t *testing.T) {
	p := &schema.Plan{Assertions: []schema.Assertion{{Name: "x", Check: schema.Expr{Src: "leaks == 0 && leeks == 0"}}}}
	es := compileErrors(t, p)
	if len(es) != 1 || !strings.Contains(es[0].Msg, "at character 15 of the check") {
		t.Fatalf("got %v, want one error naming character 15", es)
	}
}

// contractNames is the table of docs/plan-format.md ("What an assertion can
// see") plus the names the brief of this package promises. Compile must
// accept each, so the environment cannot drift from the contract.
var contractNames = []string{
	"acquire.min", "acquire.mean", "acquire.p50", "acquire.p90", "acquire.p95", "acquire.p99", "acquire.max", "acquire.count",
	"query.min", "query.mean", "query.p50", "query.p90", "query.p95", "query.p99", "query.max", "query.count",
	"op.min", "op.mean", "op.p50", "op.p90", "op.p95", "op.p99", "op.max", "op.count",
	"hold.min", "hold.mean", "hold.p50", "hold.p90", "hold.p95", "hold.p99", "hold.max", "hold.count",
	"connect.min", "connect.mean", "connect.p50", "connect.p90", "connect.p95", "connect.p99", "connect.max", "connect.count",
	"ops", "errors", "success_rate", "throughput",
	"errors_by.acquire_timeout", "errors_by.connect", "errors_by.query", "errors_by.broken",
	"errors_by.cancelled", "errors_by.args", "errors_by.other",
	"leaks", "recovery",
	"utilization.mean", "utilization.p95", "utilization.max",
	"connections.opened", "connections.closed", "connections.max_open", "connections.reuse",
	"exhaustion.events", "exhaustion.total", "exhaustion.longest", "exhaustion.timeouts",
	"pool.size", "pool.max_overflow", "pool.timeout", "pool.recycle", "pool.pre_ping",
	"pool.isolation_level", "pool.reset_on_return", "pool.use_lifo",
	"driver", "server_version", "scenario", "users", "elapsed",
	"preflight.reachability", "preflight.server", "preflight.rtt", "preflight.capacity",
	"preflight.timeouts", "preflight.consistency",
	"server.max_connections", "server.version", "rtt",
	"baseline.acquire.p95", "baseline.throughput", "baseline.success_rate", "baseline.recovery",
	// docs/plan-format.md's next keys: the service under test (target.service).
	"service.backends.max", "service.backends.mean", "service.backends.p95",
	"service.in_use.max", "service.in_use.mean", "service.in_use.p95",
	"service.utilization.mean", "service.utilization.p95", "service.utilization.max",
	"service.idle_in_transaction.max", "service.lock_waits.max", "service.leaks",
	"service.connections.opened", "service.connections.closed", "service.connections.max_open",
}

func TestEveryContractNameCompiles(t *testing.T) {
	offered := map[string]bool{}
	for _, n := range assertions.Names() {
		offered[n] = true
	}
	for _, name := range contractNames {
		t.Run(name, func(t *testing.T) {
			if !offered[name] {
				t.Errorf("Names() does not list %s", name)
			}
			// `x == x` type-checks for every type.
			if es := compileErrors(t, withService(planWith(name+" == "+name))); es != nil {
				t.Errorf("Compile rejects %s: %v", name, es)
			}
		})
	}
}

func TestEveryNameCompiles(t *testing.T) {
	names := assertions.Names()
	if len(names) < len(contractNames) {
		t.Fatalf("Names() lists %d names, fewer than the contract's %d", len(names), len(contractNames))
	}
	for _, name := range names {
		if es := compileErrors(t, withService(planWith(name+" == "+name))); es != nil {
			t.Errorf("Compile rejects %s, which Names() lists: %v", name, es)
		}
	}
}

// TestCompileNodeBudget: a check longer than exprbudget.MaxNodes is refused
// with a message that says so, not expr's "compilation failed".
func TestCompileNodeBudget(t *testing.T) {
	long := strings.Repeat("ops > 0 && ", 600) + "ops > 0"
	es := compileErrors(t, planWith(long, strings.Repeat("ops > 0 && ", 400)+"ops > 0"))
	if len(es) != 1 {
		t.Fatalf("want one error (the 600-term check; 400 terms fit), got %v", es)
	}
	e := es[0]
	if e.Pos.Line != 10 || e.Pos.File != "plan.yaml" {
		t.Errorf("position %s, want plan.yaml:10:...", e.Pos)
	}
	if want := `assertion "a0": the check is too long: more than 2,000 syntax nodes`; e.Msg != want {
		t.Errorf("message %q, want %q", e.Msg, want)
	}
	if !strings.Contains(e.Hint, "split it") {
		t.Errorf("hint %q", e.Hint)
	}
}

// TestFaultMembers: faults[i] offers kind, status, recovery and recovered
// (docs/assertions.md); the other fields of results.Fault, and the Go names
// of those four, are not names a check can read.
func TestFaultMembers(t *testing.T) {
	for _, c := range []string{`faults[0].kind == "stall"`, `faults[0].status == "applied"`, `faults[0].recovery < 1s`, `faults[0].recovered`} {
		if es := compileErrors(t, planWith(c)); len(es) > 0 {
			t.Errorf("%s: %v", c, es)
		}
	}
	for _, c := range []string{`faults[0].What == ""`, `faults[0].Effect == ""`, `faults[0].Recovery == nil`, `faults[0].At > 0s`,
		`faults[0].Kind == ""`, `faults[0].RecoveryTime > 0s`, `pool.Size == 1`, `pool.Capacity == 1`} {
		if es := compileErrors(t, planWith(c)); len(es) == 0 {
			t.Errorf("%s compiles, want an error: not a name", c)
		}
	}
}
