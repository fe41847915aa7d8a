package assertions

import (
	"math"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/planrun/planrun/schema"
)

// Checks of what a check says, beyond names and types: mistakes that
// compile but cannot mean what was meant.

// checkPercent reports a percentage literal (`success_rate > 95%`): rates
// are fractions. A `%` directly after a number and not followed by an
// operand is taken for a percent sign (`ops % 2` stays a modulo). It
// returns true when it reported one.
func checkPercent(cs *checkSource, errs *schema.Errors) bool {
	in := []rune(cs.rw.src)
	found := false
	for i := 0; i < len(in); {
		c := in[i]
		if c == '"' || c == '\'' || c == '`' {
			i = skipString(in, i)
			continue
		}
		if !isDigit(c) || (i > 0 && (isWordRune(in[i-1]) || in[i-1] == '.')) {
			if isWordRune(c) {
				for i++; i < len(in) && isWordRune(in[i]); i++ {
				}
				continue
			}
			i++
			continue
		}
		j := i
		for j < len(in) && (isDigit(in[j]) || in[j] == '.') {
			j++
		}
		if j < len(in) && in[j] == '%' && !operandFollows(in, j+1) {
			lit := string(in[i:j])
			hint := "rates are fractions from 0 to 1: 0.95 is 95%"
			if v, err := strconv.ParseFloat(lit, 64); err == nil {
				hint = "write " + fraction(v)
			}
			cs.errorf(errs, i, hint, "`%s%%` is not a number: rates are fractions from 0 to 1", lit)
			found = true
		}
		i = j
	}
	return found
}

// operandFollows reports whether an operand (a number, a name or a
// parenthesis) follows in[from:], spaces aside.
func operandFollows(in []rune, from int) bool {
	for k := from; k < len(in); k++ {
		switch r := in[k]; {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		case r == '(' || isWordRune(r):
			return true
		default:
			return false
		}
	}
	return false
}

// fraction renders a percentage as the fraction to write: 99.9 → 0.999.
func fraction(percent float64) string {
	return strconv.FormatFloat(math.Round(percent/100*1e9)/1e9, 'f', -1, 64)
}

// isFraction reports whether a name is a rate from 0 to 1.
func isFraction(name string) bool {
	if _, _, member, ok := opRef(name); ok {
		return opNames[member].fraction
	}
	return names[name].fraction
}

// comparisons maps a comparison to its mirror (a < b is b > a).
var comparisons = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

// checkFractions reports a rate compared with a constant above 1
// (`success_rate > 99.9`): such a check is decided whatever the run does.
func checkFractions(cs *checkSource, root ast.Node, errs *schema.Errors) {
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		b, ok := (*n).(*ast.BinaryNode)
		if !ok {
			return
		}
		op, ok := comparisons[b.Operator]
		if !ok {
			return
		}
		name, num, at, ok := fractionAgainstConstant(b.Left, b.Right)
		if ok {
			op = b.Operator
		} else if name, num, at, ok = fractionAgainstConstant(b.Right, b.Left); !ok {
			return
		}
		if num <= 1 {
			return
		}
		lit := strconv.FormatFloat(num, 'g', -1, 64)
		verdict := "can never pass"
		if op == "<" || op == "<=" || op == "!=" {
			verdict = "always passes"
		}
		hint := "rates are fractions from 0 to 1: 0.95 is 95%"
		if num <= 100 {
			hint = "write " + fraction(num) + " for " + lit + "%"
		}
		cs.errorf(errs, at, hint, "`%s %s %s` %s: `%s` is a fraction from 0 to 1", name, op, lit, verdict, name)
	}))
}

// fractionAgainstConstant matches a rate name against a number constant.
func fractionAgainstConstant(nameNode, numNode ast.Node) (name string, num float64, at int, ok bool) {
	segs, isName := chainOf(nameNode)
	if !isName {
		return "", 0, 0, false
	}
	name = joinSegments(segs)
	if !isFraction(name) {
		return "", 0, 0, false
	}
	switch x := numNode.(type) {
	case *ast.IntegerNode:
		return name, float64(x.Value), x.Location().From, true
	case *ast.FloatNode:
		return name, x.Value, x.Location().From, true
	}
	return "", 0, 0, false
}

// checkRecoveryScope reports an assertion on recovery narrowed to scenarios
// none of which measures recovery: it could never be evaluated.
func checkRecoveryScope(c *compiled, pc *planContext, errs *schema.Errors) {
	if len(c.a.Scenarios) == 0 || !(c.references("recovery") || c.references("recovered")) {
		return
	}
	var known []string
	for _, name := range c.a.Scenarios {
		sc, ok := pc.scens[name]
		if !ok {
			continue // an unknown scenario is the schema's to report
		}
		if sc.RecoveryAfter > 0 || len(sc.Faults) > 0 {
			return
		}
		known = append(known, name)
	}
	if len(known) == 0 {
		return
	}
	pos := c.a.ScenariosPos
	if pos.Line == 0 {
		pos = c.a.Pos
	}
	if pos.File == "" {
		pos.File = pc.file
	}
	errs.Add(pos, "set recovery_after on the scenario (the stage after whose end the pool must recover), give it faults, or list one that does",
		"assertion %q reads `recovery`, but none of its scenarios (%s) sets recovery_after or has faults: it could never be evaluated",
		c.a.Name, strings.Join(known, ", "))
}

// runLevelRoots are the names that describe the run, not a scenario.
var runLevelRoots = map[string]bool{
	"preflight": true, "server": true, "server_version": true, "rtt": true, "pool": true, "driver": true,
}

// isRunLevel reports whether a check reads only the run's context, so that
// it is evaluated once per run, not once per scenario.
func isRunLevel(refs []string) bool {
	if len(refs) == 0 {
		return false
	}
	for _, r := range refs {
		root, _, _ := strings.Cut(r, ".")
		if !runLevelRoots[root] {
			return false
		}
	}
	return true
}
