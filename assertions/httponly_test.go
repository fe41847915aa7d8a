package assertions_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// httpPlan has a service, a mix of HTTP requests only (api: scenario web),
// one of SQL only (db: scenario batch) and one of both (both: scenario
// mixed). The assertions are appended; the first item's check is on line 32.
const httpPlan = `version: 1
name: t
target:
  service: {url: "http://127.0.0.1:8000"}
mixes:
  api:
    - name: balance
      http: GET /accounts/1
  db:
    - name: one
      sql: SELECT 1
  both:
    - name: fetch
      http: GET /accounts/2
    - name: two
      sql: SELECT 2
scenarios:
  - name: web
    mix: api
    users: 2
    duration: 1s
  - name: batch
    mix: db
    users: 2
    duration: 1s
  - name: mixed
    mix: both
    users: 2
    duration: 1s
assertions:
`

func parseHTTP(t *testing.T, assertionsYAML string) *schema.Plan {
	t.Helper()
	p, err := schema.Parse("plan.yaml", []byte(httpPlan+assertionsYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("schema.Parse: %v", err)
	}
	return p
}

// TestOwnPoolOnHTTPOnlyIsPlanError: a check that reads planrun's own pool
// (acquire, utilization, leaks, connections, exhaustion, errors_by's SQL
// categories, an HTTP operation's acquire...) where it could never be
// measured (every scenario it applies to sends only HTTP requests, or the
// operation is an HTTP request) is a plan error at the name, with a hint
// naming what to read instead; where one of its scenarios runs SQL, it
// compiles.
func TestOwnPoolOnHTTPOnlyIsPlanError(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		pos, msg   string // "": compiles
		hint       string
	}{
		{"utilization on web", "  - name: a\n    check: utilization.p95 < 0.85\n    scenarios: [web]\n", "plan.yaml:32:12",
			"`utilization.p95` reads planrun's own pool, but its scenario web sends only HTTP requests: planrun's pool takes no load there, so it could never be measured",
			"write `service.utilization.p95`"},
		{"leaks, second name", "  - name: a\n    check: op.p95 < 1s && leaks == 0\n    scenarios: [web]\n", "plan.yaml:32:27",
			"`leaks` reads planrun's own pool", "write `service.leaks`"},
		{"acquire", "  - name: a\n    check: acquire.p95 < 200ms\n    scenarios: [web]\n", "plan.yaml:32:12",
			"`acquire.p95` reads planrun's own pool", "a request's latency is op.* (e.g. `op.p95`)"},
		{"connections", "  - name: a\n    check: connections.max_open <= 6\n    scenarios: [web]\n", "plan.yaml:32:12",
			"`connections.max_open` reads planrun's own pool", "write `service.connections.max_open`"},
		{"exhaustion", "  - name: a\n    check: exhaustion.timeouts == 0\n    scenarios: [web]\n", "plan.yaml:32:12",
			"`exhaustion.timeouts` reads planrun's own pool", "errors_by.http_5xx"},
		{"sql error category", "  - name: a\n    check: errors_by.acquire_timeout == 0\n    scenarios: [web]\n", "plan.yaml:32:12",
			"`errors_by.acquire_timeout` reads planrun's own pool", "errors_by.http_5xx, http_4xx, http_timeout and http_connect"},
		{"baseline", "  - name: a\n    check: op.p95 < 1s && baseline.hold.p95 < 1s\n    scenarios: [web]\n", "plan.yaml:32:27",
			"`baseline.hold.p95` reads planrun's own pool", "op.*"},
		{"http operation's acquire", "  - name: a\n    check: operations.fetch.acquire.p95 < 1s\n    scenarios: [mixed]\n", "plan.yaml:32:12",
			"`operations.fetch.acquire.p95` reads planrun's own pool, but operation \"fetch\" is an HTTP request", "write `operations.fetch.op.p95`"},
		{"http error category", "  - name: a\n    check: errors_by.http_5xx == 0 && op.p95 < 1s && service.leaks == 0\n    scenarios: [web]\n", "", "", ""},
		{"scoped to web and batch", "  - name: a\n    check: utilization.p95 < 0.85\n    scenarios: [web, batch]\n", "", "", ""},
		{"scoped to mixed", "  - name: a\n    check: acquire.p95 < 200ms\n    scenarios: [mixed]\n", "", "", ""},
		{"every scenario", "  - name: a\n    check: utilization.p95 < 0.85 && leaks == 0\n", "", "", ""},
		{"sql operation's acquire", "  - name: a\n    check: operations.two.acquire.p95 < 1s\n", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assertions.Compile(parseHTTP(t, tc.yaml))
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("Compile: %v, want none", err)
				}
				return
			}
			var es schema.Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("Compile: %v, want one schema error", err)
			}
			e := es[0]
			if e.Pos.String() != tc.pos || !strings.Contains(e.Msg, tc.msg) || !strings.Contains(e.Hint, tc.hint) {
				t.Errorf("error %s %q (hint %q),\nwant %s %q (hint with %q)", e.Pos, e.Msg, e.Hint, tc.pos, tc.msg, tc.hint)
			}
		})
	}
}

// TestOwnPoolEveryScenarioHTTPOnly: in a plan whose every scenario sends
// only HTTP requests, an assertion that lists no scenario and reads
// planrun's own pool could never be measured either.
func TestOwnPoolEveryScenarioHTTPOnly(t *testing.T) {
	p := parseHTTP(t, "  - name: a\n    check: utilization.p95 < 0.85\n")
	p.Scenarios = p.Scenarios[:1] // web only
	_, err := assertions.Compile(p)
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 1 || !strings.Contains(es[0].Msg, "its scenario web sends only HTTP requests") {
		t.Fatalf("Compile: %v, want the one error naming scenario web", err)
	}
	p.Scenarios = append(p.Scenarios, schema.Scenario{Name: "web2", Mix: "api"})
	_, err = assertions.Compile(p)
	if !errors.As(err, &es) || len(es) != 1 || !strings.Contains(es[0].Msg, "every scenario of the plan (web, web2) sends only HTTP requests") {
		t.Fatalf("Compile: %v, want the one error naming both scenarios", err)
	}
}

// httpOnlyScenario is a scenario that sent only HTTP requests: planrun's
// own pool figures are zeros, its service's were watched.
func httpOnlyScenario(name string) results.Scenario {
	sc := serviceScenario(name)
	sc.HTTPOnly = true
	sc.Acquire, sc.Query, sc.Hold, sc.Connect = results.Latency{}, results.Latency{}, results.Latency{}, results.Latency{}
	sc.Utilization, sc.Connections, sc.ErrorsBy = results.Utilization{}, results.Connections{}, map[string]int64{}
	sc.Op = results.Latency{Count: 10000, P95: 40 * time.Millisecond, Max: 300 * time.Millisecond}
	return sc
}

// TestOwnPoolNotApplicableOnHTTPOnly: an assertion on every scenario that
// reads planrun's own pool is judged on the SQL scenario and skipped, not
// applicable, on the HTTP-only one (not unmeasured: it does not fail the
// verdict); one that reads the request latency is judged on both; one that
// reads the baseline's pool skips where the baseline's scenario was
// HTTP-only.
func TestOwnPoolNotApplicableOnHTTPOnly(t *testing.T) {
	set := mustCompileService(t, assertion("pool", "utilization.p95 < 0.95 && acquire.p95 < 1s"), assertion("latency", "op.p95 < 2s"))
	r := run(scenario("batch"), httpOnlyScenario("web"))
	outcomes, v := set.Evaluate(r, nil)
	got := map[string]results.Outcome{}
	for _, o := range outcomes {
		got[o.Name+"@"+o.Scenario] = o
	}
	if o := got["pool@batch"]; o.Status != results.OutcomePass {
		t.Errorf("pool on batch: %+v, want pass", o)
	}
	want := "not applicable: scenario web sends only HTTP requests, so planrun's own pool took no load (`utilization.p95` reads it); the service's pool is service.*"
	if o := got["pool@web"]; o.Status != results.OutcomeSkipped || o.Unmeasured || o.Reason != want {
		t.Errorf("pool on web: %s %q unmeasured=%v,\nwant skipped %q, not unmeasured", o.Status, o.Reason, o.Unmeasured, want)
	}
	for _, k := range []string{"latency@batch", "latency@web"} {
		if o := got[k]; o.Status != results.OutcomePass {
			t.Errorf("%s: %+v, want pass", k, o)
		}
	}
	if !v.Pass {
		t.Errorf("verdict %s %v, want pass: a check not applicable to a scenario does not fail it", v.Label, v.Criteria)
	}

	base := run(httpOnlyScenario("batch"))
	o := evaluate(t, "query.p95 < baseline.query.p95 * 2", scenario("batch"), base)
	if o.Status != results.OutcomeSkipped || o.Unmeasured || !strings.HasPrefix(o.Reason, "not applicable: the baseline's scenario batch sent only HTTP requests") {
		t.Errorf("baseline HTTP-only: %s %q unmeasured=%v", o.Status, o.Reason, o.Unmeasured)
	}
}

// TestBuiltinLeaksOnHTTPOnly: on a scenario that sends only HTTP requests,
// the built-in leak check judges the service's leaks (service.leaks == 0),
// not planrun's pool's; a plan assertion on service.leaks replaces it
// there, one on leaks does not. On a SQL scenario it is leaks == 0.
func TestBuiltinLeaksOnHTTPOnly(t *testing.T) {
	leaking := httpOnlyScenario("web") // service.leaks = 1
	for _, tc := range []struct {
		name   string
		plan   []schema.Assertion
		sc     results.Scenario
		check  string // the built-in leak check's outcome; "": none
		status results.OutcomeStatus
	}{
		{"http-only, service leaked", nil, leaking, "service.leaks == 0", results.OutcomeFail},
		{"sql scenario", nil, scenario("batch"), "leaks == 0", results.OutcomePass},
		{"replaced by service.leaks", []schema.Assertion{assertion("svc", "service.leaks <= 1")}, leaking, "", ""},
		{"not replaced by leaks", []schema.Assertion{assertion("pool", "leaks == 0")}, leaking, "service.leaks == 0", results.OutcomeFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := assertions.Compile(withService(&schema.Plan{File: "plan.yaml", Assertions: tc.plan}))
			if err != nil {
				t.Fatal(err)
			}
			outcomes, _ := set.Evaluate(run(tc.sc), nil)
			var found *results.Outcome
			for i, o := range outcomes {
				if o.Builtin && o.Name == "built-in: no connection leaks" {
					found = &outcomes[i]
				}
			}
			switch {
			case tc.check == "" && found != nil:
				t.Errorf("built-in leak check %+v, want it replaced", *found)
			case tc.check != "" && found == nil:
				t.Errorf("no built-in leak check in %+v", outcomes)
			case found != nil && (found.Check != tc.check || found.Status != tc.status):
				t.Errorf("built-in leak check %q %s, want %q %s", found.Check, found.Status, tc.check, tc.status)
			}
		})
	}
}

// mustCompileService compiles as against a plan with target.service, the
// built-in checks off.
func mustCompileService(t *testing.T, as ...schema.Assertion) *assertions.Set {
	t.Helper()
	set, err := assertions.CompileWith(withService(&schema.Plan{File: "plan.yaml", Assertions: as}), assertions.Options{NoBuiltins: true})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return set
}
