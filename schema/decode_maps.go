package schema

// Decoding of string-to-string maps (target.service.env, an operation's
// headers). decode.go walks the document.

import (
	"reflect"

	"go.yaml.in/yaml/v3"
)

// stringMap decodes a mapping of names to strings, recording where each key
// and value was written (meta.entries). A value is any scalar, as text
// (`POOL_SIZE: 20` is "20"), ${VAR}-expanded when c.expand; null, a list or
// a mapping is an error at the value. Duplicate keys are reported by pairs.
// Go maps have no order: readers that need one sort the keys.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, c ctx) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.typeError(n, c.key, "a mapping of names to strings", "write `"+c.key+": {NAME: value}`")
		return false
	}
	out := reflect.MakeMap(v.Type())
	entries := map[string]entry{}
	good := true
	for _, kv := range d.pairs(n) {
		name := kv.key.Value
		vn := d.deref(kv.val)
		if vn == nil {
			good = false
			continue
		}
		e := entry{key: d.src.pos(kv.key), val: d.src.textPos(vn)}
		vc := ctx{key: c.key + " " + name, expand: c.expand, placeholders: c.placeholders}
		if ref, ok := d.envScalar(vn, vc); ok {
			e.ref = ref
		}
		s, ok := d.text(vn, vc, "a string")
		if !ok {
			good = false
			continue
		}
		out.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(s).Convert(v.Type().Elem()))
		entries[name] = e
	}
	v.Set(out)
	d.meta.entries[v.Addr().Interface()] = entries
	return good
}
