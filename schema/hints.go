package schema

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// sqlalchemyPool maps SQLAlchemy's create_engine pool arguments to the keys
// of planrun's `pool:` (docs/plan-format.md, "pool").
var sqlalchemyPool = map[string]string{
	"pool_size":            "size",
	"max_overflow":         "max_overflow",
	"pool_timeout":         "timeout",
	"pool_recycle":         "recycle",
	"pool_pre_ping":        "pre_ping",
	"isolation_level":      "isolation_level",
	"pool_reset_on_return": "reset_on_return",
	"pool_use_lifo":        "use_lifo",
}

// rateNames are what other tools call an arrival rate.
var rateNames = map[string]bool{"rps": true, "qps": true, "tps": true, "arrival_rate": true,
	"requests_per_second": true, "per_second": true, "throughput": true}

// faultKeyNames maps what people call a fault's keys to planrun's, and
// faultKeyMeaning says what each is.
var (
	faultKeyNames = map[string]string{
		"duration": "for", "length": "for", "lasts": "for", "until": "for",
		"kind": "fault", "type": "fault", "name": "fault",
		"start": "at", "time": "at", "after": "at", "offset": "at", "when": "at",
		"percent": "share", "percentage": "share", "fraction": "share", "ratio": "share",
		"latency": "add", "delay": "add",
	}
	faultKeyMeaning = map[string]string{"for": "length", "fault": "kind", "at": "start",
		"share": "part of the pool's backends", "add": "added latency"}
)

// poolExample is a value to show in a hint when the plan's own is not a
// short scalar.
var poolExample = map[string]string{
	"size": "20", "max_overflow": "10", "timeout": "30s", "recycle": "30m", "pre_ping": "true",
	"connect_timeout": "5s", "leak_threshold": "10s",
	"isolation_level": "read_committed", "reset_on_return": "rollback", "use_lifo": "true",
	"fault": "stall", "share": "50%", "add": "200ms", "at": "30s", "for": "5s",
}

// misplacedKeyHint returns the hint for an unknown key that is a known key
// of another section or another tool: SQLAlchemy's pool arguments, pool keys
// at the top level, `ramp_up` in a stage, `ramp` in a scenario, an open
// model's keys at the top level, `rps` and the like for `rate`, `seed` in a
// scenario, other names for a fault's keys (`duration` for `for`), other
// spellings of an HTTP operation (`method`, `url`, `status`) and of
// target.service (`application_url`). It returns ""
// for other keys (the "did you mean" hint applies).
func misplacedKeyHint(t reflect.Type, key string, val *yaml.Node) string {
	switch t {
	case reflect.TypeFor[Plan]():
		if key == "rate" || key == "arrival" || key == "max_in_flight" {
			return fmt.Sprintf("`%s` belongs in a scenario, next to its `mix`", key)
		}
		k, sqlalchemy := sqlalchemyPool[key]
		if !sqlalchemy {
			if _, ok := infoOf(reflect.TypeFor[Pool]()).fields[key]; !ok {
				return ""
			}
			k = key
		}
		example := fmt.Sprintf("`pool: {%s: %s}`", k, exampleValue(k, val))
		if k == key {
			return fmt.Sprintf("`%s` belongs under `pool:`: write %s", key, example)
		}
		return fmt.Sprintf("SQLAlchemy's `%s` is `pool.%s` in planrun: write %s", key, k, example)
	case reflect.TypeFor[Pool]():
		if k, ok := sqlalchemyPool[key]; ok && k != key {
			return fmt.Sprintf("SQLAlchemy's `%s` is `%s` in planrun: write `%s: %s`", key, k, k, exampleValue(k, val))
		}
	case reflect.TypeFor[Stage]():
		if key == "ramp_up" {
			return fmt.Sprintf("a stage's ramp is `ramp`: write `ramp: %s` (`ramp_up` goes with `users`, without stages)", exampleValue("ramp", val))
		}
	case reflect.TypeFor[Fault]():
		if k, ok := faultKeyNames[key]; ok {
			return fmt.Sprintf("a fault's %s is `%s`: write `%s: %s`", faultKeyMeaning[k], k, k, exampleValue(k, val))
		}
	case reflect.TypeFor[Operation]():
		switch key {
		case "method", "path", "url", "get", "post", "put", "patch", "delete", "request":
			return "an HTTP operation is `http: METHOD PATH`, the path relative to target.service.url: write e.g. `http: GET /accounts/$1`"
		case "header":
			return "write `headers: {Name: value}`"
		case "status", "statuses", "expect_status", "expected_status", "status_code", "status_codes":
			return "the statuses that count as success are `expect`: write e.g. `expect: [200]`"
		}
	case reflect.TypeFor[Target]():
		if key == "application_url" || key == "app_url" || key == "app" || key == "application" {
			return "the service under test is `target.service`: write `service: {url: ${APPLICATION_URL}}`"
		}
	case reflect.TypeFor[Scenario]():
		switch {
		case key == "ramp":
			return fmt.Sprintf("with `users`, the ramp is `ramp_up`: write `ramp_up: %s` (`ramp` is a stage's key; a `rate` ramps with stages)", exampleValue("ramp", val))
		case rateNames[key]:
			return "an open model's arrival rate is `rate`, per second or per minute: write `rate: 400/s`"
		case key == "seed":
			return "`seed` is a top-level key: one seed makes the whole run reproducible"
		}
	}
	return ""
}

// exampleValue is val's text when it is a short one-line scalar, otherwise
// an example value for key.
func exampleValue(key string, val *yaml.Node) string {
	if val = derefQuiet(val); val != nil && val.Kind == yaml.ScalarNode && val.Tag != "!!null" &&
		val.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && len(val.Value) <= 20 &&
		val.Value != "" && !strings.ContainsAny(val.Value, "\n`{}[],:#") {
		return val.Value
	}
	if v, ok := poolExample[key]; ok {
		return v
	}
	return "10s"
}
