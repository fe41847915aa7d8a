package schema_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/internal/httpop"
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
		{"target.service.database_env", def("service", "database_env"), schema.DefaultServiceDatabaseEnv},
		{"target.service.ready", def("service", "ready"), schema.DefaultServiceReady},
		{"target.service.processes", def("service", "processes"), float64(schema.DefaultServiceProcesses)},
		{"operation.timeout", dur(def("operation", "timeout")), httpop.DefaultTimeout},
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

// jsonValidator checks a value against plan.schema.json with the keywords
// that file uses (draft 2020-12, local $ref only). A keyword it does not
// know fails the test, so that a schema edit cannot slip past it unchecked.
type jsonValidator struct {
	t    *testing.T
	root jsonNode
}

// annotations are keywords that constrain nothing.
var annotations = map[string]bool{"$schema": true, "$id": true, "$defs": true, "title": true, "description": true, "default": true, "examples": true}

// validate returns a message for every way x breaks schema s, at path.
func (v jsonValidator) validate(s any, x any, path string) []string {
	switch s := s.(type) {
	case bool:
		if !s {
			return []string{path + ": not allowed here"}
		}
		return nil
	case jsonNode:
		var errs []string
		for kw := range s {
			if !annotations[kw] && !handled[kw] {
				v.t.Fatalf("%s: the test's JSON Schema validator does not know the keyword %q; teach it", path, kw)
			}
		}
		if ref, ok := s["$ref"].(string); ok {
			errs = append(errs, v.validate(resolve(v.t, v.root, jsonNode{"$ref": ref}), x, path)...)
		}
		if ty, ok := s["type"]; ok && !hasType(ty, x) {
			return append(errs, fmt.Sprintf("%s: %v is not of type %v", path, x, ty))
		}
		if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(c any) bool { return reflect.DeepEqual(c, x) }) {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, x, e))
		}
		if c, ok := s["const"]; ok && !reflect.DeepEqual(c, x) {
			errs = append(errs, fmt.Sprintf("%s: %v is not %v", path, x, c))
		}
		errs = append(errs, v.scalar(s, x, path)...)
		errs = append(errs, v.object(s, x, path)...)
		errs = append(errs, v.array(s, x, path)...)
		errs = append(errs, v.combined(s, x, path)...)
		return errs
	}
	v.t.Fatalf("%s: a schema of type %T", path, s)
	return nil
}

var handled = map[string]bool{"$ref": true, "type": true, "enum": true, "const": true,
	"pattern": true, "minLength": true, "minimum": true, "maximum": true, "exclusiveMinimum": true,
	"properties": true, "additionalProperties": true, "required": true, "minProperties": true,
	"items": true, "minItems": true, "maxItems": true,
	"anyOf": true, "oneOf": true, "allOf": true, "not": true, "if": true, "then": true, "else": true}

func hasType(ty any, x any) bool {
	if list, ok := ty.([]any); ok {
		return slices.ContainsFunc(list, func(t any) bool { return hasType(t, x) })
	}
	switch ty {
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "array":
		_, ok := x.([]any)
		return ok
	case "string":
		_, ok := x.(string)
		return ok
	case "boolean":
		_, ok := x.(bool)
		return ok
	case "null":
		return x == nil
	case "number":
		_, ok := x.(float64)
		return ok
	case "integer":
		f, ok := x.(float64)
		return ok && f == math.Trunc(f)
	}
	return false
}

// scalar checks the string and number keywords.
func (v jsonValidator) scalar(s jsonNode, x any, path string) []string {
	var errs []string
	if str, ok := x.(string); ok {
		if p, ok := s["pattern"].(string); ok && !mustCompile(v.t, p).MatchString(str) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", path, str, p))
		}
		if n, ok := s["minLength"].(float64); ok && float64(utf8.RuneCountInString(str)) < n {
			errs = append(errs, fmt.Sprintf("%s: %q is shorter than %v", path, str, n))
		}
	}
	if f, ok := x.(float64); ok {
		if n, ok := s["minimum"].(float64); ok && f < n {
			errs = append(errs, fmt.Sprintf("%s: %v < minimum %v", path, f, n))
		}
		if n, ok := s["maximum"].(float64); ok && f > n {
			errs = append(errs, fmt.Sprintf("%s: %v > maximum %v", path, f, n))
		}
		if n, ok := s["exclusiveMinimum"].(float64); ok && f <= n {
			errs = append(errs, fmt.Sprintf("%s: %v ≤ exclusiveMinimum %v", path, f, n))
		}
	}
	return errs
}

// object checks the object keywords.
func (v jsonValidator) object(s jsonNode, x any, path string) []string {
	obj, ok := x.(map[string]any)
	if !ok {
		return nil
	}
	var errs []string
	props, _ := s["properties"].(jsonNode)
	for _, k := range sortedKeys(obj) {
		switch p, ok := props[k]; {
		case ok:
			errs = append(errs, v.validate(p, obj[k], path+"."+k)...)
		case s["additionalProperties"] != nil:
			errs = append(errs, v.validate(s["additionalProperties"], obj[k], path+"."+k)...)
		}
	}
	if req, ok := s["required"].([]any); ok {
		for _, k := range req {
			if _, ok := obj[k.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s is required", path, k))
			}
		}
	}
	if n, ok := s["minProperties"].(float64); ok && float64(len(obj)) < n {
		errs = append(errs, fmt.Sprintf("%s: fewer than %v keys", path, n))
	}
	return errs
}

// array checks the array keywords.
func (v jsonValidator) array(s jsonNode, x any, path string) []string {
	list, ok := x.([]any)
	if !ok {
		return nil
	}
	var errs []string
	if items, ok := s["items"]; ok {
		for i, e := range list {
			errs = append(errs, v.validate(items, e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	if n, ok := s["minItems"].(float64); ok && float64(len(list)) < n {
		errs = append(errs, fmt.Sprintf("%s: fewer than %v items", path, n))
	}
	if n, ok := s["maxItems"].(float64); ok && float64(len(list)) > n {
		errs = append(errs, fmt.Sprintf("%s: more than %v items", path, n))
	}
	return errs
}

// combined checks anyOf, oneOf, allOf, not and if/then/else.
func (v jsonValidator) combined(s jsonNode, x any, path string) []string {
	var errs []string
	matches := func(list []any) (n int, why []string) {
		for _, b := range list {
			if e := v.validate(b, x, path); len(e) == 0 {
				n++
			} else {
				why = append(why, e...)
			}
		}
		return n, why
	}
	if list, ok := s["anyOf"].([]any); ok {
		if n, why := matches(list); n == 0 {
			errs = append(errs, fmt.Sprintf("%s: %v matches none of anyOf (%s)", path, x, strings.Join(why, "; ")))
		}
	}
	if list, ok := s["oneOf"].([]any); ok {
		if n, why := matches(list); n != 1 {
			errs = append(errs, fmt.Sprintf("%s: %v matches %d of oneOf, want 1 (%s)", path, x, n, strings.Join(why, "; ")))
		}
	}
	if list, ok := s["allOf"].([]any); ok {
		for _, b := range list {
			errs = append(errs, v.validate(b, x, path)...)
		}
	}
	if not, ok := s["not"]; ok && len(v.validate(not, x, path)) == 0 {
		errs = append(errs, fmt.Sprintf("%s: %v matches a `not` schema", path, x))
	}
	if cond, ok := s["if"]; ok {
		branch := "else"
		if len(v.validate(cond, x, path)) == 0 {
			branch = "then"
		}
		if b, ok := s[branch]; ok {
			errs = append(errs, v.validate(b, x, path)...)
		}
	}
	return errs
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonValue turns a YAML document into the value a JSON tool sees (what
// yaml-language-server checks): numbers as float64.
func jsonValue(t *testing.T, src []byte) any {
	t.Helper()
	var x any
	if err := yaml.Unmarshal(src, &x); err != nil {
		t.Fatal(err)
	}
	var norm func(any) any
	norm = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				x[k] = norm(v)
			}
		case []any:
			for i, v := range x {
				x[i] = norm(v)
			}
		case int:
			return float64(x)
		case int64:
			return float64(x)
		case uint64:
			return float64(x)
		}
		return x
	}
	return norm(x)
}

func schemaErrors(t *testing.T, src []byte) []string {
	t.Helper()
	root := loadJSONSchema(t)
	return jsonValidator{t, root}.validate(root, jsonValue(t, src), "plan")
}

// TestJSONSchemaAcceptsRepositoryPlans validates every plan of plans/,
// examples/ and deploy/kubernetes against plan.schema.json, as an editor
// with yaml-language-server does: none may be flagged.
func TestJSONSchemaAcceptsRepositoryPlans(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../plans/*.yaml", "../examples/*.yaml", "../deploy/kubernetes/plan.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found %d plans, want those of plans/ and examples/: %v", len(files), files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range schemaErrors(t, src) {
				t.Error(e)
			}
		})
	}
}

// envPlan writes ${VAR:-default} in every key the loader expands whose
// value is not a plain string: the JSON Schema must accept each, as the
// loader does.
const envPlan = `version: 1
name: ${PLAN_NAME:-env}
description: ${PLAN_DESCRIPTION:-every expanded key from the environment}
target:
  url: ${DATABASE_URL}
  application_name: ${APP:-planrun}
  replicas: ${REPLICAS:-2}
  balance: ${BALANCE:-random}
  network:
    latency: ${NETWORK_LATENCY:-500us}
    jitter: ${NETWORK_JITTER:-100us}
  service:
    url: ${APPLICATION_URL:-http://127.0.0.1:8000}
    start: ["${PYTHON:-python3}", app.py, "{port}"]
    env: {POOL_SIZE: "${SERVICE_POOL_SIZE:-20}"}
    database_env: ${DATABASE_ENV:-DATABASE_URL}
    ready: ${READY:-/healthz}
    processes: ${PROCESSES:-2}
    application_name: ${SERVICE_APP:-api}
pool:
  size: ${POOL_SIZE:-5}
  max_overflow: ${POOL_OVERFLOW:-0}
  timeout: ${POOL_TIMEOUT:-5s}
  recycle: ${POOL_RECYCLE:-30m}
  pre_ping: ${POOL_PRE_PING:-true}
  connect_timeout: ${CONNECT_TIMEOUT:-5s}
  leak_threshold: ${LEAK_THRESHOLD:-0}
mixes:
  app:
    - {name: read, sql: SELECT 1}
    - {name: me, http: GET /me, headers: {Authorization: "Bearer ${API_TOKEN:-t}"}}
scenarios:
  - {name: s, users: 1, duration: 1s}
verdict:
  pass: ${PASS:-OK}
  fail: ${FAIL:-NOT OK}
  builtins: ${BUILTINS:-true}
  generator:
    max_timer_lateness: ${MAX_TIMER_LATENESS:-20ms}
    max_lag: ${MAX_LAG:-20ms}
`

func TestJSONSchemaAcceptsEnvForms(t *testing.T) {
	if _, err := schema.Parse("env.yaml", []byte(envPlan), nil); err != nil {
		t.Fatalf("the loader refuses the test's plan: %v", err)
	}
	for _, e := range schemaErrors(t, []byte(envPlan)) {
		t.Error(e)
	}
}

// TestJSONSchemaValidatorRejects keeps the validator above honest: each
// plan breaks the schema (and the loader) in one place, and must be flagged.
func TestJSONSchemaValidatorRejects(t *testing.T) {
	httpPlan := func(http string) string {
		return "version: 1\nname: t\ntarget:\n  service: {url: 'http://h'}\nmixes:\n  app:\n    - {name: a, http: " + http +
			"}\nscenarios:\n  - {name: s, users: 1, duration: 1s}\n"
	}
	tests := []struct{ name, src string }{
		{"unknown top-level key", minimal + "colour: blue\n"},
		{"no name", strings.Replace(minimal, "name: t\n", "", 1)},
		{"version 2", strings.Replace(minimal, "version: 1", "version: 2", 1)},
		{"pool size a word", minimal + "pool:\n  size: five\n"},
		{"pool size zero", minimal + "pool:\n  size: 0\n"},
		{"latency without a unit", minimal + "target:\n  network:\n    latency: '500'\n"},
		{"unknown balance", minimal + "target:\n  balance: fastest\n"},
		{"builtins a word", minimal + "verdict:\n  builtins: sometimes\n"},
		{"bandwidth from the environment", minimal + "target:\n  network:\n    bandwidth: ${BW:-10MB/s}\n"},
		{"http method in lower case", httpPlan("get /a")},
		{"http without a path", httpPlan("GET")},
		{"http path not from /", httpPlan("GET a")},
		{"service with neither url nor start", strings.Replace(httpPlan("GET /a"), "{url: 'http://h'}", "{ready: /up}", 1)},
		{"service ready not a path", strings.Replace(httpPlan("GET /a"), "{url: 'http://h'}", "{url: 'http://h', ready: up}", 1)},
		{"expect not a status", strings.Replace(httpPlan("GET /a"), "}\n", ", expect: [700]}\n", 1)},
		{"sql and http", strings.Replace(httpPlan("GET /a"), "http: GET", "sql: SELECT 1, http: GET", 1)},
	}
	for _, tt := range tests {
		src := tt.src
		t.Run(tt.name, func(t *testing.T) {
			if _, err := schema.Parse("plan.yaml", []byte(src), func(string) (string, bool) { return "", false }); err == nil {
				t.Fatalf("the loader accepts it; the case tests nothing:\n%s", src)
			}
			if errs := schemaErrors(t, []byte(src)); len(errs) == 0 {
				t.Errorf("the JSON Schema accepts it:\n%s", src)
			}
		})
	}
}
