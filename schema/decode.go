package schema

// The decoder walks a YAML document into the plan's structs by their yaml
// tags, recording where each value was written (meta). The values' own
// decoders are in decode_scalars.go, decode_units.go, decode_exprs.go and
// decode_mixes.go.

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
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
	// sql holds the scalar each SQL text (and each http and body of an
	// HTTP operation) was decoded from, to point at a placeholder inside it.
	sql map[*string]*yaml.Node
	// env holds, for each number expanded from ${VAR}, the reference as
	// written: messages show it instead of the value.
	env map[any]string
	// urlFromEnv is set when target.url refers to a variable (`${...}`):
	// whether it is empty depends on the environment the plan runs in.
	urlFromEnv bool
	// entries holds, for each string map (env, headers; keyed by a pointer
	// to the map field), where each of its keys and values was written.
	entries map[any]map[string]entry
	// serviceDir is target.service.dir as written, before it is resolved
	// against the plan file's directory: messages show it.
	serviceDir string
}

// entry is where one key and value of a string map was written.
type entry struct {
	key, val Pos
	// ref is the value as written when it holds ${VAR}: messages show it
	// instead of the value (env and header values are where secrets are).
	ref string
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
	reflect.TypeFor[Service]():         "target.service",
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
	// placeholders: the text holds `$n` placeholders (an HTTP header), so a
	// `$` a ${VAR} brings in is doubled: the variable's value stays literal.
	placeholders bool
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
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String {
			return d.stringMap(n, v, c)
		}
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
		isTarget := t == reflect.TypeFor[Target]()
		fc.url = (isTarget || t == reflect.TypeFor[Service]()) && key == "url"
		if t == reflect.TypeFor[Operation]() && key == "headers" {
			fc.expand = true // header values carry secrets: `Bearer ${API_TOKEN}`
			fc.placeholders = true
		}
		fv := v.Field(f.index)
		ok = d.value(kv.val, fv, fc)
		good = good && ok
		vn := kv.val
		if r := derefQuiet(vn); r != nil {
			vn = r
		}
		ptr := fv.Addr().Interface()
		d.meta.pos[ptr] = d.src.pos(vn)
		if isTarget && fc.url && vn.Kind == yaml.ScalarNode && strings.Contains(vn.Value, "${") {
			d.meta.urlFromEnv = true
		}
		if (key == "sql" || key == "http" || key == "body") && fv.Kind() == reflect.String {
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
