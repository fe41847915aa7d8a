package schema_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

// TestBounds checks the limits of docs/plan-format.md ("Limits") on the
// numbers a plan gives, written in the file or expanded from ${VAR}: each
// value over a limit is one error at its position, naming the limit.
func TestBounds(t *testing.T) {
	twoOps := func(w1, w2 string) string {
		return doc("mixes:", "  app:", "    - {name: a, sql: SELECT 1, weight: "+w1+"}", "    - {name: b, sql: SELECT 2, weight: "+w2+"}")
	}
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []want // nil: the plan is valid
	}{
		{name: "users at the limit", src: doc(head, mixApp, "scenarios:", "  - {name: s, users: 100000, duration: 1s}")},
		{
			name: "users over the limit",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 10000000, duration: 1s}"),
			want: []want{{"7:@10000000", "users must be at most 100,000, got 10,000,000", "12 KiB"}},
		},
		{
			name: "stage users over the limit",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    stages: [{users: 5, duration: 1s}, {users: 100001, duration: 1s}]"),
			want: []want{{"8:@100001", "stage users must be at most 100,000, got 100,001", "Limits"}},
		},
		{
			name: "users too large to read",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 99999999999, duration: 1s}"),
			want: []want{{"7:@9999", "users: integer 99999999999 is out of range", "users is from 1 to 100,000"}},
		},
		{
			name: "huge pool size says the range",
			src:  doc(head, mixApp, scenario, "pool:", "  size: 99999999999"),
			want: []want{{"9:9", "size: integer 99999999999 is out of range", "size is from 1 to 100,000"}},
		},
		{
			name: "huge pool size with an exponent says the range",
			src:  doc(head, mixApp, scenario, "pool:", "  size: 1e20"),
			want: []want{{"9:9", "size must be an integer, got number 1e20", "size is from 1 to 100,000"}},
		},
		{
			name: "whole pool size with an exponent",
			src:  doc(head, mixApp, scenario, "pool:", "  size: 2e1"),
			want: []want{{"9:9", "size must be an integer, got number 2e1", "`20`"}},
		},
		{
			name: "pool size and overflow over the limit",
			src:  doc(head, mixApp, scenario, "pool:", "  size: 100001", "  max_overflow: 2000000"),
			want: []want{
				{"9:9", "pool size must be at most 100,000, got 100,001", "262,143"},
				{"10:17", "pool max_overflow must be at most 100,000, got 2,000,000", "262,143"},
			},
		},
		{
			name: "replicas over the limit",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: 10001"),
			want: []want{{"9:13", "target replicas must be at most 10,000, got 10,001", "capacity"}},
		},
		{
			name: "replicas from a variable at the limit",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: ${N}"),
			env:  map[string]string{"N": "10000"},
		},
		{
			name: "replicas from a variable over the limit",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: ${N}"),
			env:  map[string]string{"N": "20000"},
			want: []want{{"9:13", "target replicas must be at most 10,000, got the value of ${N}", "capacity"}},
		},
		{
			name: "replicas from a variable too large to read",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: ${N}"),
			env:  map[string]string{"N": "99999999999"},
			want: []want{{"9:13", "replicas: the value of ${N} is out of range", "replicas is from 1 to 10,000"}},
		},
		{
			name: "replicas from a variable past int64",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: ${N}"),
			env:  map[string]string{"N": "99999999999999999999999"},
			want: []want{{"9:13", "replicas: the value of ${N} is out of range", "replicas is from 1 to 10,000"}},
		},
		{
			name: "replicas from a variable below the range",
			src:  doc(head, mixApp, scenario, "target:", "  replicas: ${N}"),
			env:  map[string]string{"N": "-3"},
			want: []want{{"9:13", "target replicas must be ≥ 1, got the value of ${N}", ""}},
		},
		{
			name: "weights whose sum is infinite",
			src:  doc(head, twoOps("1e308", "1e308"), scenario),
			want: []want{{"6:@1e308}", "the weights of mix `app` add up to more than 1.8e+308 (the largest number) by this operation", "scale them down"}},
		},
		{
			name: "infinite weight",
			src:  doc(head, twoOps(".inf", "1"), scenario),
			want: []want{{"5:@.inf", "weight must be a finite number, got +Inf", "relative"}},
		},
		{
			name: "NaN weight",
			src:  doc(head, twoOps(".nan", "1"), scenario),
			want: []want{{"5:@.nan", "weight must be > 0, got NaN", "relative"}},
		},
		{name: "large weights with a finite sum", src: doc(head, twoOps("8e307", "8e307"), scenario)},
		{
			name: "think range up to the largest duration",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 1, duration: 1s, think: 0ns..9223372036854775807ns}"),
			want: []want{{"7:@0ns", "think 2562047h47m16.854775807s is longer than 24h", "at most 24h"}},
		},
		{
			name: "an arg nested too deep",
			src:  doc(head, "mixes:", "  app:", "    - {name: read, sql: SELECT $1, args: ["+strings.Repeat("(", 101)+"1"+strings.Repeat(")", 101)+"]}", scenario),
			want: []want{{"5:@((", "args: the expression nests brackets 101 deep, more than 100", "at most 100"}},
		},
		{name: "an arg nested 100 deep", src: doc(head, "mixes:", "  app:", "    - {name: read, sql: \"SELECT $1, $2\", args: [\"((\", "+strings.Repeat("[", 100)+"1"+strings.Repeat("]", 100)+"]}", scenario)},
		{
			name: "a check too long",
			src:  doc(head, mixApp, scenario, "assertions:", "  - {name: a, check: \""+strings.Repeat("!", 17000)+"true\"}"),
			want: []want{{"9:@!", "check: the expression is 17,004 bytes long, more than 16 KiB", "at most 16 KiB"}},
		},
		{
			name: "two stages of 2000000h, past int64 together",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    stages: [{users: 1, duration: 2000000h}, {users: 1, duration: 2000000h}]"),
			want: []want{{"8:@2000000h", "scenario `s` lasts 2000000h by the end of stage 1, more than 1000h", "1000h"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == nil {
				if _, err := schema.Parse("plan.yaml", []byte(tt.src), envOf(tt.env)); err != nil {
					t.Fatalf("want a valid plan, got:\n%v", err)
				}
				return
			}
			checkErrors(t, tt.src, tt.env, tt.want)
		})
	}
}

// TestValidationNeverEchoesEnvironmentValues puts a connection string with
// a password in every key that ${VAR}-expands and in the wrong places, and
// checks that no error shows the value, or any part of the password: the
// messages name the variable instead.
// TestPoolFromEnvironment: one plan, several pool configurations, each
// value typed after expansion.
func TestPoolFromEnvironment(t *testing.T) {
	src := doc(
		"version: 1",
		"name: t",
		"pool:",
		"  size: ${POOL_SIZE:-5}",
		"  max_overflow: ${POOL_OVERFLOW:-10}",
		"  timeout: ${POOL_TIMEOUT:-30s}",
		"  pre_ping: ${POOL_PRE_PING:-false}",
		"  isolation_level: ${POOL_ISOLATION:-read_committed}",
		"  reset_on_return: ${POOL_RESET:-rollback}",
		"  use_lifo: ${POOL_LIFO:-false}",
		mixApp,
		scenario,
	)
	for _, c := range []struct {
		name string
		env  map[string]string
		want schema.Pool
	}{
		{"defaults", nil, schema.Pool{Size: 5, MaxOverflow: 10, Timeout: schema.Duration(30 * time.Second),
			ConnectTimeout: schema.Duration(5 * time.Second), IsolationLevel: "read_committed", ResetOnReturn: "rollback"}},
		{"set", map[string]string{"POOL_SIZE": "20", "POOL_OVERFLOW": "30", "POOL_TIMEOUT": "2s", "POOL_PRE_PING": "true",
			"POOL_ISOLATION": "autocommit", "POOL_RESET": "none", "POOL_LIFO": "true"},
			schema.Pool{Size: 20, MaxOverflow: 30, Timeout: schema.Duration(2 * time.Second), PrePing: true, ConnectTimeout: schema.Duration(5 * time.Second),
				IsolationLevel: "autocommit", ResetOnReturn: "none", UseLIFO: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan, err := schema.Parse("plan.yaml", []byte(src), envOf(c.env))
			if err != nil {
				t.Fatal(err)
			}
			got := plan.Pool
			if got != c.want {
				t.Errorf("pool = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestValidationNeverEchoesEnvironmentValues(t *testing.T) {
	const password = "Gh4 spa@ce#Mn8"
	secrets := map[string]string{
		"url":       "postgres://app:" + password + "@db.internal:5432/prod",
		"key=value": "host=db.internal user=app password='" + password + "' dbname=prod",
		"number":    "4" + password,
	}
	src := doc(
		"version: 1",
		"name: t",
		"target:",
		"  url: ${DATABASE_URL",       // unterminated reference
		"  replicas: ${DATABASE_URL}", // not an integer
		"  application_name: ${DATABASE_URL} ${NOPE}", // one unset variable next to it
		"pool:",
		"  size: ${DATABASE_URL}",     // not an integer
		"  timeout: ${DATABASE_URL}",  // not a duration
		"  pre_ping: ${DATABASE_URL}", // not a boolean
		mixApp,
		scenario,
		"verdict:",
		"  pass: ${DATABASE_URL:-x}",
		"  fail: ${DATABASE_URL}${DATABASE_URL",
		"  builtins: ${DATABASE_URL}",
	)
	for name, value := range secrets {
		t.Run(name, func(t *testing.T) {
			_, err := schema.Parse("plan.yaml", []byte(src), envOf(map[string]string{"DATABASE_URL": value}))
			if err == nil {
				t.Fatal("want errors")
			}
			out := err.Error()
			if !strings.Contains(out, "${DATABASE_URL}") {
				t.Errorf("the errors do not name the variable:\n%s", out)
			}
			for _, part := range []string{value, password, "Gh4", "Mn8", "db.internal"} {
				if strings.Contains(out, part) {
					t.Errorf("the errors show %q of the variable's value:\n%s", part, out)
				}
			}
		})
	}
}

// A plan of more scenarios than a report may hold is refused when it loads,
// not after it ran: every reader of its report would refuse the record.
func TestTooManyScenarios(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nname: many\nmixes:\n  m:\n    - {name: one, sql: SELECT 1}\nscenarios:\n")
	for i := range schema.MaxScenarios + 1 {
		fmt.Fprintf(&b, "  - {name: s%d, users: 1, duration: 1s}\n", i)
	}
	_, err := schema.Parse("many.yaml", []byte(b.String()), func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "many.yaml:7:3: 1,001 scenarios, more than 1,000") {
		t.Errorf("error %v, want the scenarios refused at many.yaml:7:3", err)
	}
}
