package schema_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

type jsonNode = map[string]any

// resolve follows a local "$ref" (#/$defs/name) from node.
func resolve(t *testing.T, root, node jsonNode) jsonNode {
	t.Helper()
	for {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		name, found := strings.CutPrefix(ref, "#/$defs/")
		def, ok := root["$defs"].(jsonNode)[name].(jsonNode)
		if !found || !ok {
			t.Fatalf("unresolvable $ref %q", ref)
		}
		node = def
	}
}

// objectOf returns the object schema inside node: node itself, or the anyOf
// branch with properties (Statement: a string or a mapping).
func objectOf(t *testing.T, root, node jsonNode) jsonNode {
	t.Helper()
	node = resolve(t, root, node)
	if _, ok := node["properties"]; ok {
		return node
	}
	if branches, ok := node["anyOf"].([]any); ok {
		for _, b := range branches {
			if bn := resolve(t, root, b.(jsonNode)); bn["properties"] != nil {
				return bn
			}
		}
	}
	return nil
}

var leafTypes = map[reflect.Type]bool{
	reflect.TypeFor[schema.Duration]():      true,
	reflect.TypeFor[schema.DurationRange](): true,
	reflect.TypeFor[schema.Expr]():          true,
}

// yamlFields returns the yaml keys of a struct type and their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "-" || key == "" {
			continue
		}
		out[key] = f.Type
	}
	return out
}

// compare walks the Go type and the schema node together, both directions.
func compare(t *testing.T, root, node jsonNode, typ reflect.Type, path string) {
	t.Helper()
	obj := objectOf(t, root, node)
	if obj == nil {
		t.Errorf("%s: the schema has no object with properties for Go type %s", path, typ)
		return
	}
	if obj["additionalProperties"] != false {
		t.Errorf("%s: additionalProperties must be false", path)
	}
	props := obj["properties"].(jsonNode)
	fields := yamlFields(typ)
	for key := range fields {
		if _, ok := props[key]; !ok {
			t.Errorf("%s.%s: in the Go type %s, missing from the JSON Schema", path, key, typ)
		}
	}
	for key := range props {
		if _, ok := fields[key]; !ok {
			t.Errorf("%s.%s: in the JSON Schema, not in the Go type %s", path, key, typ)
		}
	}
	for key, ft := range fields {
		prop, ok := props[key].(jsonNode)
		if !ok {
			continue
		}
		if d, ok := prop["description"].(string); (!ok || d == "") && resolve(t, root, prop)["description"] == nil {
			t.Errorf("%s.%s: no description", path, key)
		}
		descend(t, root, prop, ft, path+"."+key)
	}
}

// descend follows a field's type into lists and maps down to structs.
func descend(t *testing.T, root, node jsonNode, ft reflect.Type, path string) {
	t.Helper()
	if leafTypes[ft] {
		return
	}
	switch ft.Kind() {
	case reflect.Pointer: // an optional block (target.network)
		descend(t, root, node, ft.Elem(), path)
	case reflect.Struct:
		compare(t, root, node, ft, path)
	case reflect.Slice:
		if elem := ft.Elem(); elem.Kind() == reflect.Struct && !leafTypes[elem] {
			items, ok := resolve(t, root, node)["items"].(jsonNode)
			if !ok {
				t.Errorf("%s: list without items in the schema", path)
				return
			}
			compare(t, root, items, elem, path+"[]")
		}
	case reflect.Map:
		add, ok := resolve(t, root, node)["additionalProperties"].(jsonNode)
		if !ok {
			t.Errorf("%s: map without additionalProperties schema", path)
			return
		}
		descend(t, root, add, ft.Elem(), path+".*")
	}
}

func loadJSONSchema(t *testing.T) jsonNode {
	t.Helper()
	var root jsonNode
	if err := json.Unmarshal(schema.JSONSchema, &root); err != nil {
		t.Fatalf("plan.schema.json: %v", err)
	}
	return root
}

// TestJSONSchemaMatchesTypes keeps plan.schema.json equal to the Go types:
// every yaml key of Plan, recursively, is in the schema and vice versa.
func TestJSONSchemaMatchesTypes(t *testing.T) {
	root := loadJSONSchema(t)
	if got := root["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	compare(t, root, root, reflect.TypeFor[schema.Plan](), "plan")
}

// TestJSONSchemaDefaults checks the defaults the schema advertises against
// the Default constants the loader applies.
func TestJSONSchemaDefaults(t *testing.T) {
	root := loadJSONSchema(t)
	def := func(name, key string) any {
		prop := resolve(t, root, root["$defs"].(jsonNode)[name].(jsonNode))["properties"].(jsonNode)[key].(jsonNode)
		if d, ok := prop["default"]; ok {
			return d
		}
		return prop["properties"] // an object without a default: its properties
	}
	dur := func(v any) time.Duration {
		if v == float64(0) {
			return 0
		}
		d, err := time.ParseDuration(v.(string))
		if err != nil {
			t.Fatalf("default %v: %v", v, err)
		}
		return d
	}
	generator := def("verdict", "generator").(jsonNode)
	tests := []struct {
		name      string
		got, want any
	}{
		{"target.application_name", def("target", "application_name"), schema.DefaultApplicationName},
		{"target.replicas", def("target", "replicas"), float64(schema.DefaultReplicas)},
		{"pool.size", def("pool", "size"), float64(schema.DefaultPoolSize)},
		{"pool.max_overflow", def("pool", "max_overflow"), float64(schema.DefaultMaxOverflow)},
		{"pool.timeout", dur(def("pool", "timeout")), schema.DefaultPoolTimeout},
		{"pool.connect_timeout", dur(def("pool", "connect_timeout")), schema.DefaultConnectTimeout},
		{"pool.isolation_level", def("pool", "isolation_level"), schema.DefaultIsolationLevel},
		{"pool.reset_on_return", def("pool", "reset_on_return"), schema.DefaultResetOnReturn},
		{"pool.use_lifo", def("pool", "use_lifo"), false},
		{"operation.weight", def("operation", "weight"), schema.DefaultWeight},
		{"assertion.severity", def("assertion", "severity"), string(schema.Critical)},
		{"verdict.pass", def("verdict", "pass"), schema.DefaultVerdictPass},
		{"verdict.fail", def("verdict", "fail"), schema.DefaultVerdictFail},
		{"scenario.arrival", def("scenario", "arrival"), schema.DefaultArrival},
		{"scenario.max_in_flight", def("scenario", "max_in_flight"), float64(schema.DefaultMaxInFlight)},
		{"verdict.generator.max_timer_lateness", dur(generator["max_timer_lateness"].(jsonNode)["default"]), schema.DefaultMaxTimerLateness},
		{"verdict.generator.max_lag", dur(generator["max_lag"].(jsonNode)["default"]), schema.DefaultMaxLag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("schema default %v, loader default %v", tt.got, tt.want)
			}
		})
	}
}

// TestJSONSchemaDurationPattern checks the schema's duration pattern against
// what the loader accepts.
func TestJSONSchemaDurationPattern(t *testing.T) {
	root := loadJSONSchema(t)
	var pattern string
	for _, b := range root["$defs"].(jsonNode)["duration"].(jsonNode)["anyOf"].([]any) {
		if p, ok := b.(jsonNode)["pattern"].(string); ok {
			pattern = p
		}
	}
	re := mustCompile(t, pattern)
	cases := map[string]bool{"250ms": true, "30s": true, "5m": true, "1h30m": true, "1.5s": true, "0": true,
		"30": false, "-5s": false, "5 minutes": false, "s": false, "": false}
	keys := make([]string, 0, len(cases))
	for k := range cases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, s := range keys {
		t.Run(s, func(t *testing.T) {
			if got := re.MatchString(s); got != cases[s] {
				t.Errorf("pattern matches %q = %v, want %v", s, got, cases[s])
			}
			src := minimal + "pool:\n  timeout: '" + s + "'\n"
			_, err := schema.Parse("plan.yaml", []byte(src), nil)
			loaderOK := err == nil || s == "0" // 0 is a valid duration but not a valid pool timeout
			if loaderOK != cases[s] {
				t.Errorf("loader accepts %q = %v, want %v (%v)", s, loaderOK, cases[s], err)
			}
		})
	}
}

// TestJSONSchemaRatePattern checks the schema's rate pattern against what
// the loader accepts, in a scenario and in a stage.
func TestJSONSchemaRatePattern(t *testing.T) {
	checkPattern(t, "rate", map[string]bool{"400/s": true, "90/m": true, "1.5/s": true, ".5/s": true, "1e3/s": true, "100 / s": true,
		"400": false, "400/min": false, "400/h": false, "-1/s": false, "/s": false, "inf/s": false, "NaN/s": false,
		"400 s": false, "400/S": false, "": false},
		func(s string) string {
			return doc(head, mixApp, "scenarios:", "  - {name: s, rate: '"+s+"', duration: 1s}")
		})
}

// TestJSONSchemaBandwidthPattern checks the schema's bandwidth pattern
// against what the loader accepts in target.network.
func TestJSONSchemaBandwidthPattern(t *testing.T) {
	checkPattern(t, "bandwidth", map[string]bool{"100MB/s": true, "1B/s": true, "1.5GB/s": true, "512KiB/s": true, "10Mbit/s": true,
		"64kbit/s": true, "2 GiB/s": true, ".5kB/s": true, "100GB/s": true,
		"100": false, "100MBps": false, "100KB/s": false, "100mb/s": false, "-1MB/s": false, "1e3MB/s": false,
		"100MB": false, "MB/s": false, "": false},
		func(s string) string {
			return doc(head, "target:", "  network: {bandwidth: '"+s+"'}", mixApp, scenario)
		})
}

// TestJSONSchemaPercentPattern checks the schema's percent pattern against
// what the loader reads as a percentage (range aside: `150%` is one).
func TestJSONSchemaPercentPattern(t *testing.T) {
	checkPattern(t, "percent", map[string]bool{"50%": true, "12.5%": true, "100%": true, "50 %": true, ".5%": true,
		"0.5": false, "50": false, "-5%": false, "50%%": false, "%": false, "": false},
		func(s string) string {
			return doc(head, mixApp, "scenarios:", "  - name: s", "    users: 1", "    duration: 1m",
				"    faults: [{at: 1s, fault: terminate_backends, share: '"+s+"'}]")
		})
}

// checkPattern checks the pattern of the schema's $defs entry def against
// cases (value: whether it is valid), and that the loader agrees on the
// plan planWith writes around each value.
func checkPattern(t *testing.T, def string, cases map[string]bool, planWith func(string) string) {
	t.Helper()
	re := mustCompile(t, loadJSONSchema(t)["$defs"].(jsonNode)[def].(jsonNode)["pattern"].(string))
	keys := make([]string, 0, len(cases))
	for k := range cases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, s := range keys {
		t.Run(s, func(t *testing.T) {
			if got := re.MatchString(s); got != cases[s] {
				t.Errorf("pattern matches %q = %v, want %v", s, got, cases[s])
			}
			_, err := schema.Parse("plan.yaml", []byte(planWith(s)), nil)
			if loaderOK := err == nil; loaderOK != cases[s] {
				t.Errorf("loader accepts %q = %v, want %v (%v)", s, loaderOK, cases[s], err)
			}
		})
	}
}

func mustCompile(t *testing.T, pattern string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("pattern %q: %v", pattern, err)
	}
	return re
}
