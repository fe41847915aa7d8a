package schema

// Decoding of plain scalars: text, integers, and values written as ${VAR}.
// decode.go walks the document.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/internal/humanize"
)

// envScalar reports whether n is a string scalar to expand (a ${VAR} in a
// key that expands), and returns it as written.
func (d *decoder) envScalar(n *yaml.Node, c ctx) (string, bool) {
	if c.expand && n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.Contains(n.Value, "${") {
		return strings.TrimSpace(n.Value), true
	}
	return "", false
}

// expandedScalar decodes a duration or a bool written as ${VAR}: the
// expanded value is parsed as the plan would be, and a message names the
// variable, never its value (it could be a secret set for another key).
func (d *decoder) expandedScalar(n *yaml.Node, v reflect.Value, c ctx, ref string) bool {
	s, ok := d.text(n, c, "a value")
	if !ok {
		return false
	}
	d.meta.env[v.Addr().Interface()] = ref
	s = strings.TrimSpace(s)
	if v.Kind() == reflect.Bool {
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			d.errorf(d.src.pos(n), "set it to `true` or `false`", "%s: the value of %s is not true or false", c.key, ref)
			return false
		}
		v.SetBool(b)
		return true
	}
	dur, msg, _ := parseDuration(s)
	if msg != "" {
		d.errorf(d.src.pos(n), "set it to a Go-style duration with a unit: `250ms`, `30s`, `5m`", "%s: the value of %s is not a duration", c.key, ref)
		return false
	}
	v.SetInt(int64(dur))
	return true
}

// text returns a scalar's text, ${VAR}-expanded when c.expand.
func (d *decoder) text(n *yaml.Node, c ctx, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.typeError(n, c.key, want, "")
		return "", false
	}
	if !c.expand {
		return n.Value, true
	}
	allowUnset := c.url && envWholeRef.MatchString(strings.TrimSpace(n.Value))
	lookup := d.lookup
	if c.placeholders {
		lookup = func(name string) (string, bool) {
			v, ok := d.lookup(name)
			return strings.ReplaceAll(v, "$", "$$"), ok
		}
	}
	s, probs := expandEnv(n.Value, lookup, allowUnset)
	for _, p := range probs {
		d.errorf(d.src.valuePos(n, p.off), p.hint, "%s: %s", c.key, p.msg)
	}
	return s, len(probs) == 0
}

// integer decodes an int. A value outside the int32 range is an error; so
// is a number with a fraction. A value expanded from ${VAR} is never shown:
// messages name the variable (the value could be a secret in the wrong key).
// The key's own range (intRanges) is checked by the validator; the decoder
// shows it in the hint of a number too large to read.
func (d *decoder) integer(n *yaml.Node, v reflect.Value, c ctx) bool {
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	rangeHint := ""
	if r, ok := intRanges[c.section+"."+c.key]; ok {
		rangeHint = fmt.Sprintf("%s is %s (see Limits in docs/plan-format.md)", c.key, r)
	}
	if v.Kind() == reflect.Int64 { // seed: any 64-bit integer
		lo, hi = math.MinInt64, math.MaxInt64
		rangeHint = fmt.Sprintf("%s is a whole number from %s to %s", c.key, humanize.Int(lo), humanize.Int(hi))
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && c.expand && strings.Contains(n.Value, "${") {
		s, ok := d.text(n, c, "an integer")
		if !ok {
			return false
		}
		ref := strings.TrimSpace(n.Value)
		d.meta.env[v.Addr().Interface()] = ref
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange), err == nil && (i > hi || i < lo):
			d.errorf(d.src.pos(n), rangeHint, "%s: the value of %s is out of range", c.key, ref)
			return false
		case err != nil:
			d.errorf(d.src.pos(n), "set the variable to a whole number", "%s must be an integer, got the value of %s", c.key, ref)
			return false
		}
		v.SetInt(i)
		return true
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.Tag == "!!float" {
			hint = floatHint(n.Value, rangeHint, hi)
		}
		d.typeError(n, c.key, "an integer", hint)
		return false
	}
	var i int64
	if err := n.Decode(&i); err != nil || i > hi || i < lo {
		d.errorf(d.src.pos(n), rangeHint, "%s: integer %s is out of range", c.key, n.Value)
		return false
	}
	v.SetInt(i)
	return true
}

// floatHint is the hint for a number with a fraction or an exponent where
// an integer of at most limit is needed: the whole number to write, or the
// key's range (rangeHint, when known) when the number is whole but too large.
func floatHint(text, rangeHint string, limit int64) string {
	f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
	switch {
	case err != nil || f != math.Trunc(f) || math.IsNaN(f):
		return "use a whole number"
	case math.Abs(f) <= float64(limit) && math.Abs(f) < 1<<53: // exact in a float64
		return fmt.Sprintf("write it without a decimal point or exponent: `%d`", int64(f))
	case rangeHint != "":
		return rangeHint
	}
	return "the number is too large"
}
