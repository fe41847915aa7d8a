package schema

// Decoding of the mixes and their statements. decode.go walks the document.

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
