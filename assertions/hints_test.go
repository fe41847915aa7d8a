package assertions_test

import (
	"strings"
	"testing"

	"github.com/planrun/planrun/schema"
)

// TestCompileHints: mistakes that would compile, or fail obscurely, are plan
// errors with a position and a hint. Each check starts at plan.yaml:10:12.
func TestCompileHints(t *testing.T) {
	for _, tc := range []struct {
		name, check, pos, msg, hint string
	}{
		{"percent literal", "success_rate > 80%", "plan.yaml:10:27", "`80%` is not a number: rates are fractions from 0 to 1", "write 0.8"},
		{"percent with decimals", "success_rate >= 99.5%", "plan.yaml:10:28", "`99.5%`", "write 0.995"},
		{"fraction above one", "success_rate > 99.9", "plan.yaml:10:27", "`success_rate > 99.9` can never pass: `success_rate` is a fraction from 0 to 1", "write 0.999 for 99.9%"},
		{"fraction above one, mirrored", "95 <= utilization.p95", "plan.yaml:10:12", "`utilization.p95 >= 95` can never pass", "write 0.95"},
		{"fraction always passes", "connections.reuse < 90", "plan.yaml:10:32", "`connections.reuse < 90` always passes", "write 0.9"},
		{"per-operation fraction", "operations.balance.success_rate > 95", "plan.yaml:10:46", "`operations.balance.success_rate > 95` can never pass", "write 0.95"},
		{"unknown operation", "operations.balanse.op.p95 < 50ms", "plan.yaml:10:23", "unknown operation `balanse` in `operations.balanse.op.p95`", "did you mean `operations.balance`?"},
		{"unknown operation far from any", "operations.zzzzzz.ops > 0", "plan.yaml:10:23", "unknown operation `zzzzzz`", "the plan's operations: `balance`, `transfer`"},
		{"unknown operation member", "operations.balance.op.p96 < 50ms", "plan.yaml:10:34", "unknown name `operations.balance.op.p96`", "did you mean `operations.balance.op.p95`?"},
		{"operation used as a value", "operations.balance > 0", "plan.yaml:10:12", "`operations.balance` is a group of metrics, not a value", "`operations.balance.ops`"},
		{"operations alone", "operations > 0", "plan.yaml:10:12", "`operations` is a group of metrics, not a value", "the plan's operations: `balance`, `transfer`"},
		{"baseline operation", "operations.balance.op.p95 < baseline.operations.transfr.op.p95", "plan.yaml:10:60", "unknown operation `transfr`", "did you mean `baseline.operations.transfer`?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planWith(tc.check)
			p.Mixes = map[string]schema.Mix{"app": {{Name: "balance"}, {Name: "transfer"}}}
			es := compileErrors(t, p)
			if len(es) != 1 {
				t.Fatalf("errors = %v, want one", es)
			}
			e := es[0]
			if got := e.Pos.String(); got != tc.pos {
				t.Errorf("position = %s, want %s (%s)", got, tc.pos, e.Msg)
			}
			if !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("message = %q, want it to contain %q", e.Msg, tc.msg)
			}
			if !strings.Contains(e.Hint, tc.hint) {
				t.Errorf("hint = %q, want it to contain %q", e.Hint, tc.hint)
			}
		})
	}
}

func TestCompileAcceptsFractionsAndModulo(t *testing.T) {
	for _, check := range []string{
		"success_rate > 0.95",
		"success_rate >= 1",
		"ops % 2 == 0",
		"ops %2 == 0",
		"utilization.p95 < 0.85",
		`driver != "80%"`,
		"operations.balance.success_rate >= 0.99",
		"success_rate > baseline.success_rate * 0.99",
	} {
		p := planWith(check)
		p.Mixes = map[string]schema.Mix{"app": {{Name: "balance"}}}
		if es := compileErrors(t, p); es != nil {
			t.Errorf("%s: %v", check, es)
		}
	}
}

func TestRecoveryScopedToScenariosWithoutRecovery(t *testing.T) {
	p := planWith("recovery < 1s")
	p.Scenarios = []schema.Scenario{{Name: "steady"}, {Name: "surge", RecoveryAfter: 2}}
	p.Assertions[0].Scenarios = []string{"steady"}
	p.Assertions[0].ScenariosPos = schema.Pos{File: "plan.yaml", Line: 11, Col: 16}
	es := compileErrors(t, p)
	if len(es) != 1 || es[0].Pos.String() != "plan.yaml:11:16" ||
		!strings.Contains(es[0].Msg, "reads `recovery`, but none of its scenarios (steady) sets recovery_after") ||
		!strings.Contains(es[0].Hint, "set recovery_after") {
		t.Fatalf("errors = %v", es)
	}
	p.Assertions[0].Scenarios = []string{"steady", "surge"}
	if es := compileErrors(t, p); es != nil {
		t.Errorf("scoped to a scenario that measures recovery: %v", es)
	}
}
