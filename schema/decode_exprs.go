package schema

// Decoding of expressions: assertion checks and statement args (a flow
// list is cut from the source text). decode.go walks the document.

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/internal/humanize"
)

// yamlNulls are the plain scalars YAML reads as null; as an argument they
// become expr's nil (SQL NULL).
var yamlNulls = map[string]bool{"": true, "~": true, "null": true, "Null": true, "NULL": true}

// expr keeps a scalar's text as an expression. For an args item (c.arg), a
// YAML-quoted string becomes an expr string literal and null becomes nil; a
// check is the scalar's text whatever its style.
func (d *decoder) expr(n *yaml.Node, e *Expr, c ctx) bool {
	if n.Kind == yaml.SequenceNode && c.arg && n.Style&yaml.FlowStyle != 0 {
		if text, ok := d.flowText(n); ok {
			*e = Expr{Src: text, Pos: d.src.pos(n)}
			return true
		}
	}
	if n.Kind != yaml.ScalarNode || (!c.arg && isNull(n)) {
		d.typeError(n, c.key, "an expression (a YAML scalar)", "")
		return false
	}
	switch {
	case c.arg && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		*e = Expr{Src: strconv.Quote(n.Value), Pos: d.src.pos(n)}
	case c.arg && n.Tag == "!!null" && n.Style == 0 && yamlNulls[n.Value]:
		*e = Expr{Src: "nil", Pos: d.src.pos(n)}
	default:
		*e = Expr{Src: strings.TrimSpace(n.Value), Pos: d.src.textPos(n)}
	}
	return true
}

// bounded reports, at the expression, when it is longer than MaxExprLen
// or its brackets nest deeper than MaxExprNesting. Such an expression is
// replaced in the partial plan by one that compiles (nil for an arg, true
// for a check), so that the later compile steps neither parse it nor
// report it a second time.
func (d *decoder) bounded(e *Expr, c ctx) bool {
	arg := c.arg || strings.HasPrefix(c.key, "args")
	if len(e.Src) > MaxExprLen {
		hint := fmt.Sprintf("an expression is at most %d KiB", MaxExprLen>>10)
		if arg {
			hint += ": for many values, keep them in a table and pick a row with randInt"
		}
		d.errorf(e.Pos, hint,
			"%s: the expression is %s bytes long, more than %d KiB", c.key, humanize.Int(int64(len(e.Src))), MaxExprLen>>10)
	} else if depth := exprNesting(e.Src); depth > MaxExprNesting {
		d.errorf(e.Pos, fmt.Sprintf("an expression nests at most %d levels of brackets: split it up or simplify it", MaxExprNesting),
			"%s: the expression nests brackets %s deep, more than %d", c.key, humanize.Int(int64(depth)), MaxExprNesting)
	} else {
		return true
	}
	e.Src = "true"
	if arg {
		e.Src = "nil"
	}
	return false
}

// exprNesting returns how deep (), [] and {} nest in src, outside string
// literals.
func exprNesting(src string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'', '`':
			if end := skipQuoted([]byte(src), i); end > 0 {
				i = end - 1
			} else {
				i = len(src)
			}
		case '(', '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return deepest
}

// flowText returns the source text of a flow collection used as one
// expression (an expr array literal).
func (d *decoder) flowText(n *yaml.Node) (string, bool) {
	items, ok := d.src.flowItems(n)
	if !ok {
		return "", false
	}
	texts := make([]string, len(items))
	for i, it := range items {
		texts[i] = it.text
	}
	return "[" + strings.Join(texts, ", ") + "]", true
}

// exprs decodes an args list. A flow list is cut from the source text so
// that commas inside calls (`[randInt(1, 10)]`) stay inside their item.
func (d *decoder) exprs(n *yaml.Node, v reflect.Value, c ctx) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, c.key, "a list of expressions", "write `args: [randInt(1, 100)]` or one `- item` per line")
		return false
	}
	if n.Style&yaml.FlowStyle != 0 {
		if items, ok := d.src.flowItems(n); ok {
			out := make([]Expr, 0, len(items))
			good := true
			for _, it := range items {
				e, ok := d.flowArg(it, c)
				ok = ok && d.bounded(&e, c)
				good = good && ok
				out = append(out, e)
			}
			v.Set(reflect.ValueOf(out))
			return good
		}
	}
	out := make([]Expr, len(n.Content))
	good := true
	for i, item := range n.Content {
		ic := ctx{key: fmt.Sprintf("%s[%d]", c.key, i), arg: true}
		if item = d.deref(item); item == nil {
			good = false
			continue
		}
		good = d.expr(item, &out[i], ic) && d.bounded(&out[i], ic) && good
	}
	v.Set(reflect.ValueOf(out))
	return good
}

// flowArg turns one item of a flow args list, as written, into an Expr.
func (d *decoder) flowArg(it rawItem, c ctx) (Expr, bool) {
	switch it.text[0] {
	case '"', '\'':
		if quotedEnd(it.text) == len(it.text) {
			var s string
			if err := yaml.Unmarshal([]byte(it.text), &s); err == nil {
				return Expr{Src: strconv.Quote(s), Pos: it.pos}, true
			}
		}
	case '!', '&', '*':
		d.errorf(it.pos, "write the args one `- item` per line to use YAML tags, anchors or aliases",
			"%s: YAML tags, anchors and aliases are not supported in a flow list of expressions", c.key)
		return Expr{Pos: it.pos}, false
	}
	if yamlNulls[it.text] {
		return Expr{Src: "nil", Pos: it.pos}, true
	}
	return Expr{Src: it.text, Pos: it.pos}, true
}

// quotedEnd returns the offset just after the YAML quoted scalar at the
// start of s: "..." with backslash escapes, '...' with ” for a quote.
func quotedEnd(s string) int {
	if s[0] == '"' {
		return skipQuoted([]byte(s), 0)
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return i + 1
		}
	}
	return -1
}
