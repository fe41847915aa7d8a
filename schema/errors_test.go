package schema_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/planrun/planrun/schema"
)

// doc joins lines with newlines, so that line N of the plan is argument N.
func doc(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// envOf returns a lookup over a fixed map.
func envOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// parseErrs parses src and returns its errors, failing when there are none or
// when the error is not a schema.Errors.
func parseErrs(t *testing.T, src string, env map[string]string) schema.Errors {
	t.Helper()
	p, err := schema.Parse("plan.yaml", []byte(src), envOf(env))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors; plan: %+v", p)
	}
	if p != nil {
		t.Errorf("Parse returned a plan together with an error")
	}
	var es schema.Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want schema.Errors: %v", err, err)
	}
	return es
}

// want is one expected error: its position, message and a hint substring
// ("" = any). The position is "line:col", or "line:@text" for the column
// where text first occurs on that line.
type want struct {
	at, msg, hint string
}

// resolveAt turns "line:@text" into "line:col" against src.
// checkErrors parses src with env and checks its errors against want, in
// order: position, message and hint.
func checkErrors(t *testing.T, src string, env map[string]string, want []want) {
	t.Helper()
	es := parseErrs(t, src, env)
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if got, at := e.Pos.String(), "plan.yaml:"+resolveAt(t, src, w.at); got != at {
			t.Errorf("error %d at %s, want %s (%s)", i, got, at, e.Msg)
		}
		if e.Msg != w.msg {
			t.Errorf("error %d message:\n got %q\nwant %q", i, e.Msg, w.msg)
		}
		if !strings.Contains(e.Hint, w.hint) {
			t.Errorf("error %d hint %q does not contain %q", i, e.Hint, w.hint)
		}
	}
}

func resolveAt(t *testing.T, src, at string) string {
	t.Helper()
	line, mark, ok := strings.Cut(at, ":@")
	if !ok {
		return at
	}
	var n int
	if _, err := fmt.Sscan(line, &n); err != nil || n < 1 || n > strings.Count(src, "\n") {
		t.Fatalf("bad position %q", at)
	}
	text := strings.Split(src, "\n")[n-1]
	i := strings.Index(text, mark)
	if i < 0 {
		t.Fatalf("position %q: %q not on line %d: %q", at, mark, n, text)
	}
	return fmt.Sprintf("%d:%d", n, utf8.RuneCountInString(text[:i])+1)
}

const (
	mixApp   = "mixes:\n  app:\n    - {name: read, sql: SELECT 1}" // lines 3-5 after head
	head     = "version: 1\nname: t"                               // lines 1-2
	scenario = "scenarios:\n  - {name: s, users: 1, duration: 1s}"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []want
	}{
		{
			name: "unknown key with a close match",
			src:  doc(head, mixApp, scenario, "pool:", "  max_overlow: 3"),
			want: []want{{"9:3", "unknown key `max_overlow` in pool", "did you mean `max_overflow`?"}},
		},
		{
			name: "unknown key lists the valid keys",
			src:  doc(head, mixApp, scenario, "pool:", "  colour: red"),
			want: []want{{"9:3", "unknown key `colour` in pool", "valid keys: `connect_timeout`, `isolation_level`, `leak_threshold`, `max_overflow`, `pre_ping`, `recycle`, `reset_on_return`, `size`, `timeout`, `use_lifo`"}},
		},
		{
			name: "pool checkout keys, all wrong at once",
			src:  doc(head, mixApp, scenario, "pool:", "  isolation_level: READ COMMITTED", "  reset_on_return: rollbak", "  use_lifo: sometimes", "  pool_use_lifo: true"),
			want: []want{
				{"9:20", "unknown isolation_level `READ COMMITTED`", "write `read_committed`"},
				{"10:20", "unknown reset_on_return `rollbak`", "did you mean `rollback`?"},
				{"11:13", "use_lifo must be true or false, got string \"sometimes\"", "write `true` or `false`"},
				{"12:3", "unknown key `pool_use_lifo` in pool", "SQLAlchemy's `pool_use_lifo` is `use_lifo` in planrun: write `use_lifo: true`"},
			},
		},
		{
			name: "unknown isolation level lists the valid ones",
			src:  doc(head, mixApp, scenario, "pool:", "  isolation_level: snapshot"),
			want: []want{{"9:20", "unknown isolation_level `snapshot`", "valid isolation levels: `autocommit`, `read_committed`, `repeatable_read`, `serializable`"}},
		},
		{
			name: "isolation level from the environment, checked after expansion",
			src:  doc(head, mixApp, scenario, "pool:", "  isolation_level: ${ISO}"),
			env:  map[string]string{"ISO": "serialisable"},
			want: []want{{"9:20", "unknown isolation_level (the value of ${ISO})", "did you mean `serializable`?"}},
		},
		{
			name: "unknown top-level key",
			src:  doc(head, mixApp, scenario, "asertions: []"),
			want: []want{{"8:1", "unknown key `asertions` at the top level", "did you mean `assertions`?"}},
		},
		{
			name: "SQLAlchemy pool arguments at the top level",
			src: doc(head, mixApp, scenario, "pool_size: 20", "max_overflow: 30", "pool_timeout: 10s",
				"pool_recycle: 1800s", "pool_pre_ping: true"),
			want: []want{
				{"8:1", "unknown key `pool_size` at the top level", "SQLAlchemy's `pool_size` is `pool.size` in planrun: write `pool: {size: 20}`"},
				{"9:1", "unknown key `max_overflow` at the top level", "`max_overflow` belongs under `pool:`: write `pool: {max_overflow: 30}`"},
				{"10:1", "unknown key `pool_timeout` at the top level", "SQLAlchemy's `pool_timeout` is `pool.timeout` in planrun: write `pool: {timeout: 10s}`"},
				{"11:1", "unknown key `pool_recycle` at the top level", "SQLAlchemy's `pool_recycle` is `pool.recycle` in planrun: write `pool: {recycle: 1800s}`"},
				{"12:1", "unknown key `pool_pre_ping` at the top level", "SQLAlchemy's `pool_pre_ping` is `pool.pre_ping` in planrun: write `pool: {pre_ping: true}`"},
			},
		},
		{
			name: "pool key at the top level",
			src:  doc(head, mixApp, scenario, "timeout: 5s"),
			want: []want{{"8:1", "unknown key `timeout` at the top level", "`timeout` belongs under `pool:`: write `pool: {timeout: 5s}`"}},
		},
		{
			name: "SQLAlchemy pool argument with a value that is no example",
			src:  doc(head, mixApp, scenario, "pool_size: [1, 2]"),
			want: []want{{"8:1", "unknown key `pool_size` at the top level", "write `pool: {size: 20}`"}},
		},
		{
			name: "SQLAlchemy pool arguments inside pool",
			src:  doc(head, mixApp, scenario, "pool: {pool_size: 20, pool_timeout: 5s, max_overflow: 2}"),
			want: []want{
				{"8:@pool_size", "unknown key `pool_size` in pool", "SQLAlchemy's `pool_size` is `size` in planrun: write `size: 20`"},
				{"8:@pool_timeout", "unknown key `pool_timeout` in pool", "SQLAlchemy's `pool_timeout` is `timeout` in planrun: write `timeout: 5s`"},
			},
		},
		{
			name: "ramp_up in a stage",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    stages:", "      - {users: 5, ramp_up: 10s, duration: 1m}"),
			want: []want{{"9:@ramp_up", "unknown key `ramp_up` in stage", "a stage's ramp is `ramp`: write `ramp: 10s`"}},
		},
		{
			name: "ramp next to users",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 5, ramp: 10s, duration: 1m}"),
			want: []want{{"7:@ramp", "unknown key `ramp` in scenario", "with `users`, the ramp is `ramp_up`: write `ramp_up: 10s`"}},
		},
		{
			name: "integer field given a string",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    users: lots", "    duration: 1s"),
			want: []want{{"8:12", `users must be an integer, got string "lots"`, ""}},
		},
		{
			name: "integer field given a float",
			src:  doc(head, mixApp, scenario, "pool:", "  size: 2.5"),
			want: []want{{"9:9", "size must be an integer, got number 2.5", "whole number"}},
		},
		{
			name: "bool field given yes",
			src:  doc(head, mixApp, scenario, "pool:", "  pre_ping: yes"),
			want: []want{{"9:13", `pre_ping must be true or false, got string "yes"`, "`true` or `false`"}},
		},
		{
			name: "mapping given a scalar",
			src:  doc(head, mixApp, scenario, "pool: big"),
			want: []want{{"8:7", `pool must be a mapping, got string "big"`, ""}},
		},
		{
			name: "list given a mapping",
			src:  doc(head, mixApp, "scenarios: {name: s}"),
			want: []want{{"6:12", "scenarios must be a list, got a mapping", ""}},
		},
		{
			name: "null scalar",
			src:  doc(head, mixApp, scenario, "pool:", "  size:"),
			want: []want{{"9:8", "size must be an integer, got null", "remove the key"}},
		},
		{
			name: "duration without a unit",
			src:  doc(head, mixApp, scenario, "pool:", "  timeout: 30"),
			want: []want{{"9:12", "timeout: duration needs a unit", "write `30s`, not `30`"}},
		},
		{
			name: "quoted duration without a unit",
			src:  doc(head, mixApp, scenario, "pool:", `  recycle: "1.5"`),
			want: []want{{"9:12", "recycle: duration needs a unit", "write `1.5s`, not `1.5`"}},
		},
		{
			name: "invalid duration",
			src:  doc(head, mixApp, scenario, "pool:", "  timeout: 5 minutes"),
			want: []want{{"9:12", `timeout: invalid duration "5 minutes"`, "`1h30m`"}},
		},
		{
			name: "negative duration",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT 1, hold: -5ms}", scenario),
			want: []want{{"5:@-5ms", "hold must not be negative, got -5ms", ""}},
		},
		{
			name: "think range minimum above maximum",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 150ms..50ms}"),
			want: []want{{"7:@150ms..", "think: minimum 150ms is greater than maximum 50ms", "MIN..MAX"}},
		},
		{
			name: "think range bound without a unit",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 50..150ms}"),
			want: []want{{"7:@50..", "think: duration needs a unit", "give both ends a unit: MIN..MAX, e.g. `50ms..150ms`"}},
		},
		{
			name: "think range with a dash",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 50ms-150ms}"),
			want: []want{{"7:@50ms-", `think: invalid duration "50ms-150ms"`, "a range is MIN..MAX: write `50ms..150ms`"}},
		},
		{
			name: "think range with three dots",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 50ms...150ms}"),
			want: []want{{"7:@50ms.", `think: invalid range "50ms...150ms"`, "write MIN..MAX with two dots, e.g. `50ms..150ms`"}},
		},
		{
			name: "think range without a maximum",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 50ms..}"),
			want: []want{{"7:@50ms", `think: range "50ms.." has no maximum`, "write MIN..MAX, e.g. `50ms..150ms`"}},
		},
		{
			name: "think range as a list",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    users: 1", "    duration: 1s", "    think: [50ms, 150ms]"),
			want: []want{{"10:12", "think must be a duration or a range such as `50ms..150ms`, got a list", "a range is MIN..MAX, not a list: write `50ms..150ms`"}},
		},
		{
			name: "think not a duration",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: fast}"),
			want: []want{{"7:@fast", `think: invalid duration "fast"`, "a range is MIN..MAX, e.g. `50ms..150ms`, or one duration"}},
		},
		{
			name: "think range bound not a duration",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 1ms..slow}"),
			want: []want{{"7:@1ms..", `think: invalid duration "slow"`, "; write MIN..MAX, e.g. `50ms..150ms`"}},
		},
		{
			name: "think range bound negative",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: -1ms..1ms}"),
			want: []want{{"7:@-1ms", "think must not be negative, got -1ms", "write MIN..MAX, both ≥ 0"}},
		},
		{
			name: "duration too long for Go",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 3000000h}"),
			want: []want{{"7:@3000000h", `duration: duration "3000000h" is too long`, "a duration is at most 2562047h47m16.854775807s"}},
		},
		{
			name: "duplicate key",
			src:  doc(head, mixApp, scenario, "pool:", "  size: 2", "  size: 3"),
			want: []want{{"10:3", "duplicate key `size` (first at line 9)", ""}},
		},
		{
			name: "version missing",
			src:  doc("name: t", mixApp, scenario),
			want: []want{{"1:1", "version is required", "`version: 1`"}},
		},
		{
			name: "version unsupported",
			src:  doc("version: 2", "name: t", mixApp, scenario),
			want: []want{{"1:10", "unsupported plan version 2", "only version 1"}},
		},
		{
			name: "name missing",
			src:  doc("version: 1", mixApp, scenario),
			want: []want{{"1:1", "name is required", ""}},
		},
		{
			name: "name empty",
			src:  doc("version: 1", `name: ""`, mixApp, scenario),
			want: []want{{"2:@\"\"", "name is required", ""}},
		},
		{
			name: "no mixes and no scenarios",
			src:  doc(head),
			want: []want{
				{"1:1", "at least one mix is required", "`mixes:`"},
				{"1:1", "at least one scenario is required", "`scenarios:`"},
			},
		},
		{
			name: "mix without operations",
			src:  doc(head, "mixes:", "  app: []", scenario),
			want: []want{{"4:8", "mix `app` has no operations", ""}},
		},
		{
			name: "operation without a name",
			src:  doc(head, "mixes:", "  app:", "    - sql: SELECT 1", scenario),
			want: []want{{"5:7", "operation needs a name", "`name: ...`"}},
		},
		{
			name: "duplicate operation name",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT 1}", "    - {name: read, sql: SELECT 2}", scenario),
			want: []want{{"6:14", "duplicate operation name `read` in mix `app` (first at line 5)", ""}},
		},
		{
			name: "weight zero",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT 1, weight: 0}", scenario),
			want: []want{{"5:@0}", "weight must be > 0, got 0", "relative"}},
		},
		{
			name: "operation with sql and transaction",
			src:  doc(head, "mixes:", "  app:", "    - name: read", "      sql: SELECT 1", "      transaction: [SELECT 2]", scenario),
			want: []want{{"7:20", "operation `read` has both sql and transaction", "not several"}},
		},
		{
			name: "operation with neither sql nor transaction",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, hold: 1ms}", scenario),
			want: []want{{"5:7", "operation `read` needs sql, transaction or http", ""}},
		},
		{
			name: "operation with empty sql",
			src:  doc(head, "mixes:", "  app:", `    - {name: read, sql: ""}`, scenario),
			want: []want{{"5:@\"\"", "operation `read`: sql is empty", ""}},
		},
		{
			name: "empty transaction",
			src:  doc(head, "mixes:", "  app:", "    - {name: tx, transaction: []}", scenario),
			want: []want{{"5:@[]", "operation `tx`: transaction is empty", ""}},
		},
		{
			name: "args on a transaction",
			src:  doc(head, "mixes:", "  app:", "    - {name: tx, transaction: [SELECT 1], args: [1]}", scenario),
			want: []want{{"5:@[1]", "operation `tx`: args belong to sql, not to a transaction", "own `args`"}},
		},
		{
			name: "transaction statement without sql",
			src:  doc(head, "mixes:", "  app:", "    - name: tx", "      transaction:", "        - args: [1]", scenario),
			want: []want{{"7:11", "transaction statement needs sql", ""}},
		},
		{
			name: "statement of the wrong type",
			src:  doc(head, mixApp, scenario, "setup:", "  - 42"),
			want: []want{{"9:5", "setup[0] must be SQL text or a mapping {sql, args}, got integer 42", ""}},
		},
		{
			name: "args not a list",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT $1, args: 5}", scenario),
			want: []want{{"5:@5}", "args must be a list of expressions, got integer 5", "args: ["}},
		},
		{
			name: "placeholder without an arg",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT $1 + $2, args: [1]}", scenario),
			want: []want{{"5:@$2", "operation `read`: sql uses $2 but args has 1 value", "$1 is the first arg, $2 the last"}},
		},
		{
			name: "placeholders without args",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: 'SELECT $1::text'}", scenario),
			want: []want{{"5:@$1", "operation `read`: sql uses $1 but has no args", "add `args:`"}},
		},
		{
			name: "args without placeholders",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT 1, args: [randInt(1, 10), 2]}", scenario),
			want: []want{{"5:@[randInt", "operation `read`: args has 2 values but sql has no placeholders", "refer to the args as $1, $2"}},
		},
		{
			name: "more args than placeholders",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT $1, args: [1, 2, 3]}", scenario),
			want: []want{{"5:@2, 3", "operation `read`: args has 3 values but sql uses only $1..$1", "remove the args after the 1st"}},
		},
		{
			name: "a gap in the placeholders",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT $1 + $3, args: [1, 2, 3]}", scenario),
			want: []want{{"5:@$3", "operation `read`: sql uses $3 but not $2", "without a gap"}},
		},
		{
			name: "placeholders in strings, names, comments and dollar quotes do not count",
			src: doc(head, "mixes:", "  app:", "    - name: read",
				`      sql: SELECT '$1', "$2", $$ $3 $$, $f$ $4 $f$, a$5 /* $6 */ -- $7`,
				"      args: [1]", scenario),
			want: []want{{"7:@[1]", "operation `read`: args has 1 value but sql has no placeholders", ""}},
		},
		{
			name: "placeholder on a later line of a literal block",
			src: doc(head, "mixes:", "  app:", "    - name: write", "      sql: |", "        UPDATE t",
				"           SET v = $2", "         WHERE id = $1", "      args: [1]", scenario),
			want: []want{{"8:@$2", "operation `write`: sql uses $2 but args has 1 value", ""}},
		},
		{
			name: "transaction and setup statements",
			src: doc(head, "mixes:", "  app:", "    - name: tx", "      transaction:",
				"        - {sql: UPDATE t SET v = $1, args: [1]}",
				"        - {sql: UPDATE t SET v = $2 WHERE id = $1, args: [1]}",
				scenario, "setup:", "  - INSERT INTO t VALUES ($1)", "  - {sql: 'PREPARE p AS SELECT $1'}"),
			want: []want{
				{"8:@$2", "operation `tx`, statement 2: sql uses $2 but args has 1 value", ""},
				{"12:@$1", "setup statement: sql uses $1 but has no args", ""},
			},
		},
		{
			name: "placeholder above PostgreSQL's limit",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT $70000, args: [1]}", scenario),
			want: []want{{"5:@$70000", "operation `read`: sql uses a placeholder above $65535", "$1 to $65535"}},
		},
		{
			name: "scenario without a name",
			src:  doc(head, mixApp, "scenarios:", "  - {users: 1, duration: 1s}"),
			want: []want{{"7:5", "scenario needs a name", ""}},
		},
		{
			name: "duplicate scenario name",
			src:  doc(head, mixApp, scenario, "  - {name: s, users: 2, duration: 1s}"),
			want: []want{{"8:12", "duplicate scenario name `s` (first at line 7)", ""}},
		},
		{
			name: "unknown mix",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, mix: ap, users: 1, duration: 1s}"),
			want: []want{{"7:20", "unknown mix `ap`", "did you mean `app`?"}},
		},
		{
			name: "mix required when there are several",
			src:  doc(head, mixApp, "  other:", "    - {name: w, sql: SELECT 2}", scenario),
			want: []want{{"9:5", "scenario `s` needs a mix: the plan has 2", "`app`, `other`"}},
		},
		{
			name: "users and stages together",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    users: 5", "    duration: 1s", "    stages: [{users: 1, duration: 1s}]"),
			want: []want{{"10:13", "scenario `s` has both users and stages", "not both"}},
		},
		{
			name: "neither users nor stages",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, think: 1ms}"),
			want: []want{{"7:5", "scenario `s` needs users, rate or stages", "`rate:` with `duration:` (an open model)"}},
		},
		{
			name: "users zero",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 0, duration: 1s}"),
			want: []want{{"7:@0,", "users must be > 0, got 0", ""}},
		},
		{
			name: "users without duration",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 3}"),
			want: []want{{"7:5", "scenario `s` needs duration with users", "`duration: 5m`"}},
		},
		{
			name: "duration zero",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 3, duration: 0}"),
			want: []want{{"7:@0}", "duration must be > 0", ""}},
		},
		{
			name: "ramp_up longer than duration",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 3, ramp_up: 2m, duration: 1m}"),
			want: []want{{"7:@2m", "ramp_up 2m is longer than duration 1m", "includes ramp_up"}},
		},
		{
			name: "ramp_up and duration with stages",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    ramp_up: 1s", "    duration: 1m", "    stages: [{users: 1, duration: 1s}]"),
			want: []want{
				{"8:14", "ramp_up belongs with users, not stages", "own `ramp`"},
				{"9:15", "duration belongs with users, not stages", "own `duration`"},
			},
		},
		{
			name: "stage problems",
			src: doc(head, mixApp, "scenarios:", "  - name: s", "    stages:",
				"      - {users: -1, duration: 1s}",
				"      - {users: 2}",
				"      - {users: 2, duration: 0s}",
				"      - {users: 2, ramp: 2s, duration: 1s}"),
			want: []want{
				{"9:17", "stage users must be ≥ 0, got -1", ""},
				{"10:9", "stage needs duration", "`duration: 30s`"},
				{"11:30", "stage duration must be > 0", ""},
				{"12:26", "ramp 2s is longer than the stage duration 1s", ""},
			},
		},
		{
			name: "stages adding up past a Go duration",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    stages:", "      - {users: 1, duration: 2000000h}", "      - {users: 1, duration: 2000000h}"),
			want: []want{{"9:@2000000h", "scenario `s` lasts 2000000h by the end of stage 1, more than 1000h", "a plan's load lasts at most 1000h"}},
		},
		{
			name: "stages adding up past the limit",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    stages:", "      - {users: 1, duration: 600h}", "      - {users: 1, duration: 400h1s}"),
			want: []want{{"10:@400h1s", "scenario `s` lasts 1000h0m1s by the end of stage 2, more than 1000h", "shorten it, or split it"}},
		},
		{
			name: "users scenario over the limit",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1001h}"),
			want: []want{{"7:@1001h", "scenario `s` lasts 1001h, more than 1000h", "at most 1000h"}},
		},
		{
			name: "scenarios over the limit together",
			src:  doc(head, mixApp, "scenarios:", "  - {name: a, users: 1, duration: 600h}", "  - {name: b, users: 1, duration: 600h}", "  - {name: c, users: 1, duration: 600h}"),
			want: []want{{"8:5", "the scenarios up to scenario `b` last 1200h in all, more than 1000h", "at most 1000h"}},
		},
		{
			name: "think longer than a day",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 0ns..9223372036854775807ns}"),
			want: []want{{"7:@0ns", "think 2562047h47m16.854775807s is longer than 24h", "MIN..MAX"}},
		},
		{
			name: "hold longer than a day",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT 1, hold: 25h}", scenario),
			want: []want{{"5:@25h", "hold 25h is longer than 24h", "at most 24h"}},
		},
		{
			name: "recovery_after out of range",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    stages: [{users: 1, duration: 1s}]", "    recovery_after: 2"),
			want: []want{{"9:21", "recovery_after must be between 1 and 1 (the number of stages), got 2", "1-based"}},
		},
		{
			name: "recovery_after without stages",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, recovery_after: 1}"),
			want: []want{{"7:55", "recovery_after needs stages", ""}},
		},
		{
			name: "recovery_threshold without recovery_after",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, stages: [{users: 1, duration: 1s}], recovery_threshold: 10ms}"),
			want: []want{{"7:71", "recovery_threshold needs recovery_after or faults", "recovery_after: N"}},
		},
		{
			name: "recovery_threshold on a steady load without faults",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, recovery_threshold: 10ms}"),
			want: []want{{"7:59", "recovery_threshold needs recovery_after or faults", "`faults`"}},
		},
		{
			name: "pool bounds",
			src:  doc(head, mixApp, scenario, "pool:", "  size: 0", "  max_overflow: -1", "  timeout: 0s", "  connect_timeout: 0"),
			want: []want{
				{"9:9", "pool size must be ≥ 1, got 0", ""},
				{"10:17", "pool max_overflow must be ≥ 0, got -1", "write 0"},
				{"11:12", "pool timeout must be > 0", ""},
				{"12:20", "pool connect_timeout must be > 0", ""},
			},
		},
		{
			name: "replicas zero",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: 0"),
			want: []want{{"9:13", "target replicas must be ≥ 1, got 0", ""}},
		},
		{
			name: "unknown severity",
			src:  doc(head, mixApp, scenario, "assertions:", "  - {name: a, check: leaks == 0, severity: warnign}"),
			want: []want{{"9:@warnign", "unknown severity `warnign`", "did you mean `warning`?"}},
		},
		{
			name: "assertion names an unknown scenario",
			src:  doc(head, mixApp, "scenarios:", "  - {name: peak, users: 1, duration: 1s}", "assertions:", "  - {name: a, check: leaks == 0, scenarios: [peak, peek]}"),
			want: []want{{"9:@[peak", "unknown scenario `peek`", "did you mean `peak`?"}},
		},
		{
			name: "assertion with empty scenarios",
			src:  doc(head, mixApp, scenario, "assertions:", "  - {name: a, check: leaks == 0, scenarios: []}"),
			want: []want{{"9:@[]", "scenarios is empty", "remove `scenarios:`"}},
		},
		{
			name: "assertion without name and check",
			src:  doc(head, mixApp, scenario, "assertions:", "  - severity: warning"),
			want: []want{
				{"9:5", "assertion needs a name", ""},
				{"9:5", "assertion needs a check", "`check: acquire.p95 < 200ms`"},
			},
		},
		{
			name: "after without abort_on_fail",
			src:  doc(head, mixApp, scenario, "assertions:", "  - {name: a, check: leaks == 0, after: 10s}"),
			want: []want{{"9:@10s", "after only applies with abort_on_fail", "abort_on_fail: true"}},
		},
		{
			name: "empty verdict label",
			src:  doc(head, mixApp, scenario, "verdict:", `  pass: ""`),
			want: []want{{"9:@\"\"", "verdict pass label must not be empty", "default"}},
		},
		{
			name: "unset environment variable",
			src:  doc("version: 1", "name: run-${WHO}", mixApp, scenario),
			want: []want{{"2:11", "name: environment variable WHO is not set", "${WHO:-value}"}},
		},
		{
			name: "unset variable inside a longer url",
			src:  doc(head, mixApp, scenario, "target:", "  url: postgres://app@${DB_HOST}/db"),
			want: []want{{"9:23", "url: environment variable DB_HOST is not set", ""}},
		},
		{
			name: "unterminated variable reference",
			src:  doc(head, mixApp, scenario, "verdict:", "  fail: broken ${X"),
			want: []want{{"9:16", "fail: unterminated `${` (no closing `}`)", "`$${`"}},
		},
		{
			name: "invalid variable name",
			src:  doc(head, mixApp, scenario, "target:", "  application_name: ${1X}"),
			want: []want{{"9:21", "application_name: invalid environment variable reference `${1X}`", ""}},
		},
		{
			name: "replicas from a non-numeric variable",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: ${N}"),
			env:  map[string]string{"N": "two"},
			want: []want{{"9:13", "replicas must be an integer, got the value of ${N}", "whole number"}},
		},
		{
			name: "yaml syntax error",
			src:  doc(head, mixApp, scenario, "pool:", "  size: [1, 2"),
			want: []want{{"9:1", "invalid YAML: did not find expected ',' or ']'", "starts on this line"}},
		},
		{
			name: "a ? in an unquoted flow value",
			src:  doc(head, "mixes:", "  app:", "    - {name: r, http: GET /report?hold_ms=100, timeout: 5s}", scenario),
			want: []want{{"5:1", "invalid YAML: did not find expected ',' or '}'", "quote the value"}},
		},
		{
			name: "empty file",
			src:  "",
			want: []want{{"1:1", "the plan is empty", ""}},
		},
		{
			name: "second document",
			src:  doc(head, mixApp, scenario, "---", "version: 1"),
			want: []want{{"8:1", "a plan file holds one YAML document, found a second one", "`---`"}},
		},
		{
			name: "top level not a mapping",
			src:  doc("- version: 1"),
			want: []want{{"1:1", "a plan must be a YAML mapping, got a list", ""}},
		},
		{
			name: "alias cycle",
			src:  doc(head, mixApp, scenario, "setup: &loop [*loop]"),
			want: []want{{"8:8", "alias refers to the value that contains it", ""}},
		},
		{
			name: "flow args with a YAML alias",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT $1, args: [!!str x]}", scenario),
			want: []want{{"5:@!!str", "args: YAML tags, anchors and aliases are not supported in a flow list of expressions", "`- item`"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, tt.src, tt.env, tt.want)
		})
	}
}

// TestParseReportsEveryErrorAtOnce checks that independent problems across
// the file all come back, sorted by position.
func TestParseReportsEveryErrorAtOnce(t *testing.T) {
	src := doc(
		"version: 1",
		"name: t",
		"pool:",
		"  max_overlow: 3",
		"  timeout: 30",
		"mixes:",
		"  app:",
		"    - {name: read, sql: SELECT 1, weight: 0}",
		"scenarios:",
		"  - {name: s, mix: ap, users: lots, duration: 1s}",
		"assertions:",
		"  - {name: a, check: leaks == 0, severity: fatal}",
	)
	es := parseErrs(t, src, nil)
	var got []string
	for _, e := range es {
		got = append(got, e.Pos.String()+": "+e.Msg)
	}
	wantList := []string{
		"plan.yaml:4:3: unknown key `max_overlow` in pool",
		"plan.yaml:5:12: timeout: duration needs a unit",
		"plan.yaml:8:43: weight must be > 0, got 0",
		"plan.yaml:10:20: unknown mix `ap`",
		`plan.yaml:10:31: users must be an integer, got string "lots"`,
		"plan.yaml:12:44: unknown severity `fatal`",
	}
	if strings.Join(got, "\n") != strings.Join(wantList, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantList, "\n"))
	}
	if !strings.Contains(es.Error(), "plan.yaml:4:3: unknown key `max_overlow` in pool\n    hint: did you mean `max_overflow`?") {
		t.Errorf("rendered errors lack the hint line:\n%s", es.Error())
	}
}
