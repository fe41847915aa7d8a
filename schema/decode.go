package schema

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/internal/humanize"
)

// maxValues bounds the number of YAML values one plan may decode to, so that
// aliases cannot expand a small file into an enormous plan.
const maxValues = 100_000

// meta records, for each decoded field (keyed by a pointer to it), where its
// value was written, and whether that value was bad. A field absent from
// meta was not written in the file: defaults apply by presence.
type meta struct {
	pos      map[any]Pos
	bad      map[any]bool
	mixPos   map[string]Pos // position of each mix's value
	mixOrder []string       // mix names in file order
	root     Pos            // the document's top-level mapping
	// sql holds the scalar each SQL text was decoded from, to point at a
	// placeholder inside it.
	sql map[*string]*yaml.Node
	// env holds, for each number expanded from ${VAR}, the reference as
	// written: messages show it instead of the value.
	env map[any]string
	// urlFromEnv is set when target.url refers to a variable (`${...}`):
	// whether it is empty depends on the environment the plan runs in.
	urlFromEnv bool
}

// has reports whether the field behind ptr was written in the file.
func (m *meta) has(ptr any) bool { _, ok := m.pos[ptr]; return ok }

// ok reports whether the field behind ptr is usable for validation: written
// or defaulted, and not already reported as badly typed.
func (m *meta) ok(ptr any) bool { return !m.bad[ptr] }

// at returns where the field behind ptr was written, or fallback.
func (m *meta) at(ptr any, fallback Pos) Pos {
	if p, ok := m.pos[ptr]; ok {
		return p
	}
	return fallback
}

// field describes how one yaml-tagged struct field is decoded.
type field struct {
	index  int
	posIdx int // index of the sibling `<Name>Pos Pos` field, or -1
}

// structInfo is the yaml view of a struct type.
type structInfo struct {
	fields map[string]field
	keys   []string // in declaration order
	posIdx int      // index of a `Pos Pos` field, or -1
}

var (
	posType       = reflect.TypeFor[Pos]()
	durationType  = reflect.TypeFor[Duration]()
	rateType      = reflect.TypeFor[Rate]()
	bandwidthType = reflect.TypeFor[Bandwidth]()
	percentType   = reflect.TypeFor[Percent]()
	rangeType     = reflect.TypeFor[DurationRange]()
	exprType      = reflect.TypeFor[Expr]()
	exprsType     = reflect.TypeFor[[]Expr]()
	statementType = reflect.TypeFor[Statement]()
	mixesType     = reflect.TypeFor[map[string]Mix]()
)

// section names a struct type in messages ("unknown key `x` in pool").
var section = map[reflect.Type]string{
	reflect.TypeFor[Plan]():            "the plan",
	reflect.TypeFor[Target]():          "target",
	reflect.TypeFor[Network]():         "target.network",
	reflect.TypeFor[Fault]():           "fault",
	reflect.TypeFor[Pool]():            "pool",
	statementType:                      "statement",
	reflect.TypeFor[Operation]():       "operation",
	reflect.TypeFor[Scenario]():        "scenario",
	reflect.TypeFor[Stage]():           "stage",
	reflect.TypeFor[Assertion]():       "assertion",
	reflect.TypeFor[Verdict]():         "verdict",
	reflect.TypeFor[GeneratorLimits](): "verdict.generator",
}

// yamlKey returns the yaml key of a struct field, or "" when it has none.
func yamlKey(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

func infoOf(t reflect.Type) structInfo {
	si := structInfo{fields: map[string]field{}, posIdx: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "Pos" && f.Type == posType {
			si.posIdx = i
		}
		key := yamlKey(f)
		if key == "" {
			continue
		}
		fl := field{index: i, posIdx: -1}
		if pf, ok := t.FieldByName(f.Name + "Pos"); ok && pf.Type == posType {
			fl.posIdx = pf.Index[0]
		}
		si.fields[key] = fl
		si.keys = append(si.keys, key)
	}
	return si
}

// ctx is what a value's decoding needs to know about where it sits.
type ctx struct {
	key    string // name used in messages: "users", "scenarios[2]"
	expand bool   // ${VAR} expansion applies (target.*, name, description, verdict.*)
	url    bool   // target.url: a lone unset ${VAR} means "no URL"
	arg    bool   // an args item: YAML-quoted strings become expr string literals
	// section names the struct the key is in ("pool", "stage"), for intRanges.
	section string
}

// decoder walks a yaml.Node tree against the plan's Go types.
type decoder struct {
	src    *source
	lookup func(string) (string, bool)
	errs   Errors
	meta   *meta
	active map[*yaml.Node]bool // nodes being decoded: alias cycle detection
	values int
}

func (d *decoder) errorf(pos Pos, hint, format string, args ...any) {
	d.errs.Add(pos, hint, format, args...)
}

// deref follows aliases. It returns nil, after reporting, for a cycle or when
// the plan holds too many values.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if n.Alias == nil || depth > 100 {
			d.errorf(d.src.pos(n), "", "alias *%s cannot be resolved", n.Value)
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	if d.active[n] {
		d.errorf(d.src.pos(n), "an anchor cannot contain an alias to itself", "alias refers to the value that contains it")
		return nil
	}
	d.values++
	if d.values == maxValues+1 {
		d.errorf(d.src.pos(n), "plans are small: check aliases that repeat large values",
			"the plan has more than %d values", maxValues)
	}
	if d.values > maxValues {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names a node's kind and value for type errors: `string "lots"`.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
	default:
		return "an unexpected YAML node"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!str":
		return fmt.Sprintf("string %q", v)
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	}
	return fmt.Sprintf("%s %q", n.Tag, v)
}

// typeError reports that the value at n is not what key needs.
func (d *decoder) typeError(n *yaml.Node, key, want, hint string) {
	if hint == "" && isNull(n) {
		hint = "give a value, or remove the key to use the default"
	}
	d.errorf(d.src.pos(n), hint, "%s must be %s, got %s", key, want, describe(n))
}

// value decodes n into v and reports whether it succeeded.
//
// A value of the wrong kind for its type (or an alias that cannot be
// followed) is also marked bad in meta, so that validation skips it.
func (d *decoder) value(n *yaml.Node, v reflect.Value, c ctx) bool {
	if v.Kind() == reflect.Pointer { // an optional value: nil when the key is absent
		elem := reflect.New(v.Type().Elem())
		ok := d.value(n, elem.Elem(), c)
		v.Set(elem)
		return ok
	}
	if n = d.deref(n); n == nil {
		d.meta.bad[v.Addr().Interface()] = true
		return false
	}
	d.active[n] = true
	defer delete(d.active, n)

	if ref, ok := d.envScalar(n, c); ok && (v.Type() == durationType || v.Kind() == reflect.Bool) {
		return d.expandedScalar(n, v, c, ref)
	}
	switch v.Type() {
	case durationType:
		dur, ok := d.duration(n, c.key)
		v.SetInt(int64(dur))
		return ok
	case rateType:
		r, ok := d.rate(n, c.key)
		v.SetFloat(float64(r))
		return ok
	case bandwidthType:
		b, ok := d.bandwidth(n, c.key)
		v.SetInt(int64(b))
		return ok
	case percentType:
		p, ok := d.percent(n, c.key)
		v.SetFloat(float64(p))
		return ok
	case rangeType:
		return d.durationRange(n, v.Addr().Interface().(*DurationRange), c.key)
	case exprType:
		e := v.Addr().Interface().(*Expr)
		return d.expr(n, e, c) && d.bounded(e, c)
	case exprsType:
		return d.exprs(n, v, c)
	case statementType:
		return d.statement(n, v, c)
	case mixesType:
		return d.mixes(n, v)
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.mapping(n, v, c)
	case reflect.Slice:
		return d.sequence(n, v, c)
	case reflect.String:
		if ref, ok := d.envScalar(n, c); ok {
			d.meta.env[v.Addr().Interface()] = ref // messages name the variable (validator.enum)
		}
		s, ok := d.text(n, c, "a string")
		v.SetString(s)
		return ok
	case reflect.Int, reflect.Int64:
		return d.integer(n, v, c)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.typeError(n, c.key, "a number", "")
			return false
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			d.errorf(d.src.pos(n), "", "%s: invalid number %q", c.key, n.Value)
			return false
		}
		v.SetFloat(f)
		return true
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.typeError(n, c.key, "true or false", "write `true` or `false`")
			return false
		}
		var b bool
		_ = n.Decode(&b)
		v.SetBool(b)
		return true
	}
	d.errorf(d.src.pos(n), "", "%s: unsupported field type %s", c.key, v.Type())
	return false
}

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
	s, probs := expandEnv(n.Value, d.lookup, allowUnset)
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

// duration decodes a Go-style duration. A bare number is rejected (except 0,
// which needs no unit), as is a negative duration.
func (d *decoder) duration(n *yaml.Node, key string) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.typeError(n, key, "a duration such as `30s`", "")
		return 0, false
	}
	return d.parseDuration(n, key, strings.TrimSpace(n.Value))
}

func (d *decoder) parseDuration(n *yaml.Node, key, s string) (time.Duration, bool) {
	dur, msg, hint := parseDuration(s)
	if msg != "" {
		d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
		return 0, false
	}
	return dur, true
}

// parseDuration parses a plan duration. When s is not one, msg says why and
// hint how to write it.
func parseDuration(s string) (dur time.Duration, msg, hint string) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f == 0 {
			return 0, "", ""
		}
		return 0, "duration needs a unit", fmt.Sprintf("write `%ss`, not `%s`", s, s)
	}
	dur, err := time.ParseDuration(s)
	switch {
	case err != nil && strings.Contains(err.Error(), "invalid duration") && overflows(s):
		return 0, fmt.Sprintf("duration %q is too long", s),
			fmt.Sprintf("a duration is at most %s (the largest Go duration); a plan's load lasts at most %s in all", humanize.Exact(math.MaxInt64), humanize.Exact(MaxLoad))
	case err != nil:
		return 0, fmt.Sprintf("invalid duration %q", s), "Go-style durations: `250ms`, `30s`, `5m`, `1h30m`"
	case dur < 0:
		return 0, "must not be negative, got " + s, ""
	}
	return dur, "", ""
}

// keyed prefixes a parseDuration message with the key: "hold must not be
// negative, ...", "timeout: invalid duration ...".
func keyed(key, msg string) string {
	if strings.HasPrefix(msg, "must ") {
		return key + " " + msg
	}
	return key + ": " + msg
}

// overflows reports whether s looks like a duration whose value does not fit
// in an int64 of nanoseconds (time.ParseDuration says only "invalid").
func overflows(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" || !(s[0] >= '0' && s[0] <= '9' || s[0] == '.') {
		return false
	}
	_, err := time.ParseDuration(strings.Map(func(r rune) rune {
		if r >= '1' && r <= '9' {
			return '0'
		}
		return r
	}, s))
	return err == nil
}

// rangeForm is the hint part every bad duration range shows.
const rangeForm = "a range is MIN..MAX, e.g. `50ms..150ms`, or one duration, e.g. `100ms`"

// rangeSeparators are what people write between two durations instead of `..`.
var rangeSeparators = []string{"...", "…", " - ", "-", "–", " to ", "~", ","}

// durationRange decodes `MIN..MAX` or a single duration.
func (d *decoder) durationRange(n *yaml.Node, r *DurationRange, key string) bool {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		hint := rangeForm
		if n.Kind == yaml.SequenceNode && len(n.Content) == 2 && n.Content[0].Kind == yaml.ScalarNode && n.Content[1].Kind == yaml.ScalarNode {
			hint = fmt.Sprintf("a range is MIN..MAX, not a list: write `%s..%s`", n.Content[0].Value, n.Content[1].Value)
		}
		d.typeError(n, key, "a duration or a range such as `50ms..150ms`", hint)
		return false
	}
	text := strings.TrimSpace(n.Value)
	lo, hi, isRange := strings.Cut(text, "..")
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	if !isRange {
		dur, msg, hint := parseDuration(lo)
		if msg == "" {
			r.Min, r.Max = dur, dur
			return true
		}
		if fixed, ok := asRange(lo); ok {
			hint = "a range is MIN..MAX: write `" + fixed + "`"
		} else if hint == "" {
			hint = rangeForm
		} else {
			hint += "; " + rangeForm
		}
		d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
		return false
	}
	switch {
	case strings.HasPrefix(hi, "."):
		d.errorf(d.src.pos(n), "write MIN..MAX with two dots, e.g. `"+lo+".."+strings.TrimLeft(hi, ".")+"`",
			"%s: invalid range %q", key, text)
		return false
	case lo == "" || hi == "":
		end := "maximum"
		if lo == "" {
			end = "minimum"
		}
		d.errorf(d.src.pos(n), "write MIN..MAX, e.g. `50ms..150ms`", "%s: range %q has no %s", key, text, end)
		return false
	}
	good := true
	for i, s := range []string{lo, hi} {
		dur, msg, hint := parseDuration(s)
		if msg != "" {
			switch {
			case strings.HasPrefix(msg, "duration needs a unit"):
				hint = "give both ends a unit: MIN..MAX, e.g. `50ms..150ms`"
			case hint == "":
				hint = "write MIN..MAX, both ≥ 0, e.g. `50ms..150ms`"
			default:
				hint += "; write MIN..MAX, e.g. `50ms..150ms`"
			}
			d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
			good = false
			continue
		}
		if i == 0 { // by position: `1s..1s` has equal ends
			r.Min = dur
		} else {
			r.Max = dur
		}
	}
	if !good {
		*r = DurationRange{}
		return false
	}
	if r.Min > r.Max {
		d.errorf(d.src.pos(n), "write MIN..MAX, e.g. `"+hi+".."+lo+"`",
			"%s: minimum %s is greater than maximum %s", key, r.Min, r.Max)
		*r = DurationRange{}
		return false
	}
	return true
}

// asRange returns s with a range separator people often write (`-`, `to`,
// `...`) replaced by `..`, when both ends are durations.
func asRange(s string) (string, bool) {
	for _, sep := range rangeSeparators {
		lo, hi, ok := strings.Cut(s, sep)
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		if !ok || lo == "" || hi == "" {
			continue
		}
		_, m1, _ := parseDuration(lo)
		_, m2, _ := parseDuration(hi)
		if m1 == "" && m2 == "" {
			return lo + ".." + hi, true
		}
	}
	return "", false
}

// rateForm is the hint part every bad rate shows.
const rateForm = "a rate is arrivals per second or per minute: `400/s`, `90/m`"

// rate decodes an open model's arrival rate, `N/s` or `N/m`, to arrivals
// per second.
func (d *decoder) rate(n *yaml.Node, key string) (Rate, bool) {
	return unitScalar(d, n, key, "a rate such as `400/s`", rateForm, parseRate)
}

// unitScalar decodes a scalar written with a unit (a rate, a bandwidth, a
// percentage) by parse, which says why a text is not one (msg) and how to
// write it (hint); want and form describe the value when n is no scalar.
func unitScalar[T any](d *decoder, n *yaml.Node, key, want, form string, parse func(string) (T, string, string)) (T, bool) {
	var zero T
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.typeError(n, key, want, form)
		return zero, false
	}
	v, msg, hint := parse(strings.TrimSpace(n.Value))
	if msg != "" {
		d.errorf(d.src.pos(n), hint, "%s", keyed(key, msg))
		return zero, false
	}
	return v, true
}

// parseRate parses a plan rate, `N/s` or `N/m` with N a finite number ≥ 0,
// into arrivals per second, at most MaxRate. When s is not one, msg says
// why and hint how to write it.
func parseRate(s string) (r Rate, msg, hint string) {
	num, unit, hasUnit := strings.Cut(s, "/")
	num, unit = strings.TrimSpace(num), strings.TrimSpace(unit)
	f, err := strconv.ParseFloat(num, 64)
	switch {
	case !hasUnit && err == nil:
		return 0, "rate needs a unit", fmt.Sprintf("write `%s/s` (arrivals per second) or `%s/m` (per minute)", num, num)
	case err != nil && errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("rate %q is too large", s), fmt.Sprintf("a rate is at most %s/s (see Limits in docs/plan-format.md)", humanize.Int(MaxRate))
	case !hasUnit || err != nil:
		return 0, fmt.Sprintf("invalid rate %q", s), rateForm
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, "must be a finite number, got " + s, rateForm
	case f < 0:
		return 0, "must not be negative, got " + s, "a rate counts arrivals: `0/s` in a stage is a pause"
	}
	var perSecond float64
	switch unit {
	case "s":
		perSecond = f
	case "m":
		perSecond = f / 60
	case "sec", "second", "seconds":
		return 0, fmt.Sprintf("unknown rate unit %q", unit), fmt.Sprintf("write `%s/s`; %s", num, rateForm)
	case "min", "minute", "minutes":
		return 0, fmt.Sprintf("unknown rate unit %q", unit), fmt.Sprintf("write `%s/m`; %s", num, rateForm)
	case "h", "hour", "hours":
		return 0, fmt.Sprintf("unknown rate unit %q", unit), fmt.Sprintf("write it per minute, `%s/m`; %s",
			strconv.FormatFloat(f/60, 'g', 6, 64), rateForm)
	default:
		return 0, fmt.Sprintf("unknown rate unit %q", unit), rateForm
	}
	if perSecond > MaxRate {
		return 0, fmt.Sprintf("rate %s is more than %s/s", s, humanize.Int(MaxRate)),
			fmt.Sprintf("one machine starts at most %s operations a second: beyond that it measures itself, not the pool (see Limits in docs/plan-format.md)", humanize.Int(MaxRate))
	}
	return Rate(perSecond), "", ""
}

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

// statement decodes a plain string (the SQL) or a mapping {sql, args}.
func (d *decoder) statement(n *yaml.Node, v reflect.Value, c ctx) bool {
	st := v.Addr().Interface().(*Statement)
	st.Pos = d.src.pos(n)
	switch {
	case n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || isNull(n)):
		st.SQL = strings.TrimSpace(n.Value)
		st.SQLPos = d.src.textPos(n)
		d.meta.pos[&st.SQL] = st.SQLPos
		d.meta.sql[&st.SQL] = n
		return true
	case n.Kind == yaml.MappingNode:
		return d.mapping(n, v, c)
	}
	d.typeError(n, c.key, "SQL text or a mapping {sql, args}", "")
	d.meta.bad[st] = true
	return false
}

// mixes decodes the mixes mapping, keeping the file order in Plan.MixOrder.
func (d *decoder) mixes(n *yaml.Node, v reflect.Value) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.typeError(n, "mixes", "a mapping of mix names to lists of operations", "")
		return false
	}
	plan := v.Addr().Interface().(*map[string]Mix)
	*plan = map[string]Mix{}
	good := true
	for _, kv := range d.pairs(n) {
		name := kv.key.Value
		if name == "" {
			d.errorf(d.src.pos(kv.key), "", "a mix name must not be empty")
			good = false
			continue
		}
		mix := reflect.New(reflect.TypeFor[Mix]()).Elem()
		if !d.value(kv.val, mix, ctx{key: "mix " + name}) {
			good = false
		}
		(*plan)[name] = mix.Interface().(Mix)
		d.meta.mixOrder = append(d.meta.mixOrder, name)
		d.meta.mixPos[name] = d.src.pos(kv.val)
	}
	return good
}

// sequence decodes a YAML list into a slice.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, c ctx) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, c.key, "a list", "")
		return false
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	good := true
	for i, item := range n.Content {
		ic := ctx{key: fmt.Sprintf("%s[%d]", c.key, i), expand: c.expand}
		good = d.value(item, out.Index(i), ic) && good
	}
	v.Set(out)
	return good
}

// pair is one key/value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns a mapping's key/value pairs, reporting non-scalar and
// duplicate keys and resolving `<<` merge keys (explicit keys win).
func (d *decoder) pairs(n *yaml.Node) []pair {
	var (
		out    []pair
		merged []pair
		seen   = map[string]*yaml.Node{}
	)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(d.src.pos(k), "", "mapping keys must be plain names, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			merged = append(merged, d.mergePairs(val)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(d.src.pos(k), "remove one of them", "duplicate key `%s` (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, kv := range merged {
		if _, ok := seen[kv.key.Value]; !ok {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	return out
}

// mergePairs returns the pairs a `<<` merge key brings: from one mapping or
// a list of mappings, earlier ones winning.
func (d *decoder) mergePairs(n *yaml.Node) []pair {
	if n = d.deref(n); n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		d.active[n] = true
		defer delete(d.active, n)
		return d.pairs(n)
	case yaml.SequenceNode:
		var out []pair
		seen := map[string]bool{}
		for _, m := range n.Content {
			for _, kv := range d.mergePairs(m) {
				if !seen[kv.key.Value] {
					seen[kv.key.Value] = true
					out = append(out, kv)
				}
			}
		}
		return out
	}
	d.errorf(d.src.pos(n), "", "`<<` must merge a mapping or a list of mappings, got %s", describe(n))
	return nil
}

// expandKeys are the Plan keys whose values get ${VAR} expansion.
var expandKeys = map[string]bool{"name": true, "description": true, "target": true, "pool": true, "verdict": true}

// mapping decodes a YAML mapping into a struct by its yaml tags.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, c ctx) bool {
	t := v.Type()
	si := infoOf(t)
	if si.posIdx >= 0 {
		v.Field(si.posIdx).Set(reflect.ValueOf(d.src.pos(n)))
	}
	if isNull(n) {
		return true // an empty mapping: every key absent
	}
	if n.Kind != yaml.MappingNode {
		d.typeError(n, c.key, "a mapping", "")
		d.meta.bad[v.Addr().Interface()] = true
		return false
	}
	good := true
	for _, kv := range d.pairs(n) {
		key := kv.key.Value
		f, ok := si.fields[key]
		if !ok {
			where := "in " + section[t]
			if t == reflect.TypeFor[Plan]() {
				where = "at the top level"
			}
			hint := misplacedKeyHint(t, key, kv.val)
			if hint == "" {
				hint = didYouMean(key, "keys", si.keys)
			}
			d.errorf(d.src.pos(kv.key), hint, "unknown key `%s` %s", key, where)
			good = false
			continue
		}
		fc := ctx{key: key, expand: c.expand, section: section[t]}
		if t == reflect.TypeFor[Plan]() {
			fc.expand = expandKeys[key]
		}
		fc.url = t == reflect.TypeFor[Target]() && key == "url"
		fv := v.Field(f.index)
		ok = d.value(kv.val, fv, fc)
		good = good && ok
		vn := kv.val
		if r := derefQuiet(vn); r != nil {
			vn = r
		}
		ptr := fv.Addr().Interface()
		d.meta.pos[ptr] = d.src.pos(vn)
		if fc.url && vn.Kind == yaml.ScalarNode && strings.Contains(vn.Value, "${") {
			d.meta.urlFromEnv = true
		}
		if key == "sql" && fv.Kind() == reflect.String {
			d.meta.sql[ptr.(*string)] = vn
		}
		if !ok {
			d.meta.bad[ptr] = true
		}
		if f.posIdx >= 0 {
			v.Field(f.posIdx).Set(reflect.ValueOf(d.src.textPos(vn)))
		}
	}
	return good
}

// derefQuiet follows aliases without reporting; nil on a broken chain.
func derefQuiet(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}
