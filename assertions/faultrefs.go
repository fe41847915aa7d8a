package assertions

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// faultRef is one `faults[i].member` a check reads.
type faultRef struct {
	index  int
	member string
}

func (r faultRef) String() string { return fmt.Sprintf("faults[%d].%s", r.index, r.member) }

// faultRefsOf finds the `faults[i].member` reads of a check, with a
// constant index, in source order, each once.
func faultRefsOf(root ast.Node) []faultRef {
	var out []faultRef
	seen := map[faultRef]bool{}
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		outer, ok := (*n).(*ast.MemberNode)
		if !ok {
			return
		}
		member, ok := outer.Property.(*ast.StringNode)
		if !ok {
			return
		}
		inner, ok := outer.Node.(*ast.MemberNode)
		if !ok {
			return
		}
		id, ok1 := inner.Node.(*ast.IdentifierNode)
		idx, ok2 := inner.Property.(*ast.IntegerNode)
		if !ok1 || !ok2 || id.Value != "faults" {
			return
		}
		r := faultRef{idx.Value, member.Value}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}))
	return out
}

// recoveryReads is "recovery" when refs read a fault's recovery, so that
// the check counts in the certificate's recovery criterion.
func recoveryReads(refs []faultRef) []string {
	for _, r := range refs {
		if r.member == "recovery" || r.member == "recovered" {
			return []string{"recovery"}
		}
	}
	return nil
}

// faultJudgeable says why a check reading faults[i] cannot be judged on
// sc ("" when it can): the scenario has no fault i, or fault i did not run,
// or the recovery it reads was not measured.
func faultJudgeable(refs []faultRef, sc *results.Scenario) (results.OutcomeStatus, string) {
	for _, r := range refs {
		if r.index < 0 || r.index >= len(sc.Faults) {
			return results.OutcomeError, fmt.Sprintf("%s: scenario %s has %d fault(s), faults[0] to faults[%d]", r, sc.Name, len(sc.Faults), len(sc.Faults)-1)
		}
		f := sc.Faults[r.index]
		if r.member != "recovery" && r.member != "recovered" {
			continue
		}
		switch {
		case f.Status == results.FaultFailed:
			return results.OutcomeSkipped, fmt.Sprintf("fault %d (%s) could not be applied: %s", r.index+1, f.What, f.Effect)
		case f.Recovery == nil || f.Recovery.Status == results.RecoveryNotReached:
			return results.OutcomeError, fmt.Sprintf("the scenario stopped before fault %d (%s) ended: recovery was not measured", r.index+1, f.What)
		case f.Recovery.Status == results.RecoveryNotStressed:
			return results.OutcomeError, fmt.Sprintf("the pool was never exhausted, slow nor failing after fault %d (%s): the fault did not test recovery; raise the load or the fault", r.index+1, f.What)
		}
	}
	return "", ""
}

// formatFaultActual renders the fault values a check read, e.g.
// "faults[0].recovery = 1.2s (not recovered by the scenario's end)".
func formatFaultActual(refs []faultRef, env *Env) string {
	var parts []string
	for _, r := range refs {
		if r.index < 0 || r.index >= len(env.Faults) {
			continue
		}
		f := env.Faults[r.index]
		var s string
		switch r.member {
		case "recovery":
			s = humanize.Duration(f.RecoveryTime)
			if !f.Recovered {
				s += " (not recovered by the scenario's end)"
			}
		case "recovered":
			s = fmt.Sprint(f.Recovered)
		case "kind":
			s = fmt.Sprintf("%q", f.Kind)
		case "status":
			s = fmt.Sprintf("%q", f.Status)
		default:
			continue
		}
		parts = append(parts, r.String()+" = "+s)
	}
	return strings.Join(parts, ", ")
}
