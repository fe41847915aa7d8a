package schema_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

func mustParse(t *testing.T, src string, env map[string]string) *schema.Plan {
	t.Helper()
	p, err := schema.Parse("plan.yaml", []byte(src), envOf(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func pos(line, col int) schema.Pos {
	return schema.Pos{File: "testdata/production.yaml", Line: line, Col: col}
}

// TestLoadProduction loads the contract's production plan and spot-checks
// what the engine and the assertions rely on.
func TestLoadProduction(t *testing.T) {
	const file = "testdata/production.yaml"
	p, err := schema.Load(file)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	data, _ := os.ReadFile(file)
	sum := sha256.Sum256(data)

	checks := []struct {
		name      string
		got, want any
	}{
		{"file", p.File, file},
		{"sha256", p.SHA256, hex.EncodeToString(sum[:])},
		{"version", p.Version, 1},
		{"name", p.Name, "production"},
		{"url empty when DATABASE_URL is unset", p.Target.URL, ""},
		{"url position", p.Target.URLPos, pos(8, 8)},
		{"application_name", p.Target.ApplicationName, "planrun"},
		{"replicas", p.Target.Replicas, 1},
		{"pool size", p.Pool.Size, 20},
		{"pool max_overflow", p.Pool.MaxOverflow, 30},
		{"pool timeout", p.Pool.Timeout.D(), 30 * time.Second},
		{"pool recycle", p.Pool.Recycle.D(), 30 * time.Minute},
		{"pool pre_ping", p.Pool.PrePing, true},
		{"pool connect_timeout", p.Pool.ConnectTimeout.D(), 5 * time.Second},
		{"pool leak_threshold default", p.Pool.LeakThreshold.D(), time.Duration(0)},
		{"setup count", len(p.Setup), 2},
		{"setup sql position", p.Setup[1].SQLPos, pos(23, 5)},
		{"teardown", p.Teardown[0].SQL, "DROP TABLE IF EXISTS planrun_accounts"},
		{"mix order", p.MixOrder, []string{"app"}},
		{"operations", len(p.Mixes["app"]), 3},
		{"balance weight", p.Mixes["app"][0].Weight, 70.0},
		{"balance args", p.Mixes["app"][0].Args, []schema.Expr{{Src: "randInt(1, 10000)", Pos: pos(32, 14)}}},
		{"balance position", p.Mixes["app"][0].Pos, pos(29, 7)},
		{"transfer statements", len(p.Mixes["app"][1].Transaction), 2},
		{"transfer args keep commas inside calls", p.Mixes["app"][1].Transaction[0].Args, []schema.Expr{
			{Src: "randInt(1, 10000)", Pos: pos(37, 18)},
			{Src: "randInt(1, 50)", Pos: pos(37, 37)},
		}},
		{"transfer sql position", p.Mixes["app"][1].Transaction[1].SQLPos, pos(38, 16)},
		{"monthly_report hold", p.Mixes["app"][2].Hold, schema.DurationRange{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}},
		{"scenario count", len(p.Scenarios), 4},
		{"normal users", p.Scenarios[0].Users, 25},
		{"normal ramp_up", p.Scenarios[0].RampUp.D(), 30 * time.Second},
		{"normal duration", p.Scenarios[0].Duration.D(), 5 * time.Minute},
		{"normal think", p.Scenarios[0].Think, schema.DurationRange{Min: 50 * time.Millisecond, Max: 150 * time.Millisecond}},
		{"normal position", p.Scenarios[0].Pos, pos(46, 5)},
		{"normal mix position", p.Scenarios[0].MixPos, pos(47, 10)},
		{"stress ramp_up default", p.Scenarios[2].RampUp.D(), time.Duration(0)},
		{"stages", p.Scenarios[3].Stages, []schema.Stage{
			{Users: 25, Duration: schema.Duration(30 * time.Second), DurationPos: pos(67, 31), Pos: pos(67, 9)},
			{Users: 80, Duration: schema.Duration(60 * time.Second), DurationPos: pos(68, 31), Pos: pos(68, 9)},
			{Users: 25, Duration: schema.Duration(30 * time.Second), DurationPos: pos(69, 31), Pos: pos(69, 9)},
		}},
		{"recovery_after", p.Scenarios[3].RecoveryAfter, 2},
		{"stages total duration", p.Scenarios[3].TotalDuration(), 2 * time.Minute},
		{"users total duration", p.Scenarios[1].TotalDuration(), 5 * time.Minute},
		{"assertion count", len(p.Assertions), 8},
		{"assertion check", p.Assertions[0].Check, schema.Expr{Src: "acquire.p95 < 200ms", Pos: pos(75, 12)}},
		{"assertion position", p.Assertions[0].Pos, pos(74, 5)},
		{"severity default", p.Assertions[0].Severity, schema.Critical},
		{"check with a quoted string inside", p.Assertions[6].Check.Src, `pool.size == 20 && pool.max_overflow == 30 && pool.timeout == 30s && driver == "pgx"`},
		{"scenario narrowing", p.Assertions[5].Scenarios, []string{"exhaustion_recovery"}},
		{"narrowing position", p.Assertions[7].ScenariosPos, pos(92, 16)},
		{"warning", p.Assertions[7].Severity, schema.Warning},
		{"verdict pass", p.Verdict.Pass, "APPROVED FOR PRODUCTION"},
		{"verdict fail", p.Verdict.Fail, "NOT APPROVED FOR PRODUCTION"},
		{"lookup by name", p.Scenario("peak").Users, 50},
		{"lookup of an unknown name", p.Scenario("nope") == nil, true},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v, want %#v", c.got, c.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := schema.Load(filepath.Join(t.TempDir(), "absent.yaml"))
	var es schema.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("error %v (%T), want one schema.Errors entry", err, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
}

const minimal = "version: 1\nname: t\nmixes:\n  app:\n    - {name: read, sql: SELECT 1}\nscenarios:\n  - {name: s, users: 1, duration: 1s}\n"

func TestDefaultsByPresence(t *testing.T) {
	t.Run("absent keys get the defaults", func(t *testing.T) {
		p := mustParse(t, minimal, nil)
		got := []any{p.Target.ApplicationName, p.Target.Replicas, p.Pool.Size, p.Pool.MaxOverflow,
			p.Pool.Timeout.D(), p.Pool.ConnectTimeout.D(), p.Pool.Recycle.D(), p.Pool.PrePing,
			p.Mixes["app"][0].Weight, p.Scenarios[0].Mix, p.Scenarios[0].MixPos, p.Verdict.Pass, p.Verdict.Fail}
		want := []any{schema.ApplicationNameFor("t"), schema.DefaultReplicas, schema.DefaultPoolSize, schema.DefaultMaxOverflow,
			schema.DefaultPoolTimeout, schema.DefaultConnectTimeout, time.Duration(0), false,
			schema.DefaultWeight, "app", p.Scenarios[0].Pos, schema.DefaultVerdictPass, schema.DefaultVerdictFail}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})
	t.Run("a written zero stays zero", func(t *testing.T) {
		p := mustParse(t, minimal+"pool:\n  max_overflow: 0\n  recycle: 0\ntarget:\n  application_name: ''\n", nil)
		if p.Pool.MaxOverflow != 0 || p.Pool.Recycle != 0 || p.Target.ApplicationName != "" {
			t.Errorf("max_overflow %d, recycle %v, application_name %q: want the written zeros",
				p.Pool.MaxOverflow, p.Pool.Recycle.D(), p.Target.ApplicationName)
		}
	})
	t.Run("several mixes keep file order and need naming", func(t *testing.T) {
		p := mustParse(t, "version: 1\nname: t\nmixes:\n  zeta: [{name: a, sql: SELECT 1}]\n  alpha: [{name: b, sql: SELECT 2}]\n"+
			"  mid: [{name: c, sql: SELECT 3}]\nscenarios:\n  - {name: s, mix: alpha, stages: [{users: 1, duration: 1s}]}\n", nil)
		if want := []string{"zeta", "alpha", "mid"}; !reflect.DeepEqual(p.MixOrder, want) {
			t.Errorf("MixOrder %v, want %v", p.MixOrder, want)
		}
	})
}

func TestExprs(t *testing.T) {
	tests := []struct {
		name string
		args string // the args value, written after `args: ` on line 5 (the list starts at col 42) or as block lines
		want []schema.Expr
	}{
		{"flow list keeps calls whole", `[randInt(1, 10000), 5, "x"]`, []schema.Expr{
			{Src: "randInt(1, 10000)", Pos: at(5, 43)}, {Src: "5", Pos: at(5, 62)}, {Src: `"x"`, Pos: at(5, 65)}}},
		{"single-quoted YAML string becomes an expr string", `['it''s', 'a,b']`, []schema.Expr{
			{Src: `"it's"`, Pos: at(5, 43)}, {Src: `"a,b"`, Pos: at(5, 52)}}},
		{"nested array and map literals", `[[1, 2], {a: 1}]`, []schema.Expr{
			{Src: "[1, 2]", Pos: at(5, 43)}, {Src: "{a: 1}", Pos: at(5, 51)}}},
		{"null is nil, booleans and floats stay", `[null, ~, true, 1.5]`, []schema.Expr{
			{Src: "nil", Pos: at(5, 43)}, {Src: "nil", Pos: at(5, 49)}, {Src: "true", Pos: at(5, 52)}, {Src: "1.5", Pos: at(5, 58)}}},
		{"comments and line breaks in a flow list", "[now(), # first\n        upper(\"a, b\")]", []schema.Expr{
			{Src: "now()", Pos: at(5, 43)}, {Src: `upper("a, b")`, Pos: at(6, 9)}}},
		{"block list", "\n        - randInt(1, 10)\n        - \"x\"\n        - >-\n          1 +\n          2", []schema.Expr{
			{Src: "randInt(1, 10)", Pos: at(6, 11)}, {Src: `"x"`, Pos: at(7, 11)}, {Src: "1 + 2", Pos: at(9, 11)}}},
		{"empty list", `[]`, []schema.Expr{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The SQL has one placeholder per arg (validation checks
			// them); the positions above are for `SELECT $1`.
			sql := "SELECT 1"
			for i := range tt.want {
				sql += fmt.Sprintf("+$%d", i+1)
			}
			for i := range tt.want {
				if tt.want[i].Pos.Line == 5 {
					tt.want[i].Pos.Col += len(sql) - len("SELECT $1")
				}
			}
			src := "version: 1\nname: t\nmixes:\n  app:\n    - {name: read, sql: " + sql + ", args: " + tt.args + "}\n" +
				"scenarios:\n  - {name: s, users: 1, duration: 1s}\n"
			if tt.args[0] == '\n' {
				src = "version: 1\nname: t\nmixes:\n  app:\n    - name: read\n      sql: " + sql + "\n      args:" + tt.args + "\n" +
					"scenarios:\n  - {name: s, users: 1, duration: 1s}\n"
				for i := range tt.want {
					tt.want[i].Pos.Line += 2
				}
			}
			p := mustParse(t, src, nil)
			if got := p.Mixes["app"][0].Args; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("args\n got %#v\nwant %#v\nsource:\n%s", got, tt.want, src)
			}
		})
	}
}

func at(line, col int) schema.Pos { return schema.Pos{File: "plan.yaml", Line: line, Col: col} }

func TestCheckPositions(t *testing.T) {
	tests := []struct {
		name  string
		check string // written after `    check:` on line 10
		want  schema.Expr
	}{
		{"plain", " leaks == 0", schema.Expr{Src: "leaks == 0", Pos: at(10, 12)}},
		{"double-quoted is the expression, not a string", ` "scenario == 's'"`, schema.Expr{Src: "scenario == 's'", Pos: at(10, 13)}},
		{"folded block starts on the next line", " >\n      acquire.p95 < 200ms &&\n      leaks == 0", schema.Expr{Src: "acquire.p95 < 200ms && leaks == 0", Pos: at(11, 7)}},
		{"literal block after a blank line", " |\n\n        ops > 0", schema.Expr{Src: "ops > 0", Pos: at(12, 9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, minimal+"assertions:\n  - name: a\n    check:"+tt.check+"\n", nil)
			if got := p.Assertions[0].Check; got != tt.want {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestStatementForms(t *testing.T) {
	p := mustParse(t, minimal+"setup:\n  - SELECT 1\n  - sql: SELECT $1\n    args: [42]\n  - |\n    SELECT 2\n", nil)
	want := []schema.Statement{
		{SQL: "SELECT 1", SQLPos: at(9, 5), Pos: at(9, 5)},
		{SQL: "SELECT $1", SQLPos: at(10, 10), Args: []schema.Expr{{Src: "42", Pos: at(11, 12)}}, Pos: at(10, 5)},
		{SQL: "SELECT 2", SQLPos: at(13, 5), Pos: at(12, 5)},
	}
	if !reflect.DeepEqual(p.Setup, want) {
		t.Errorf("setup\n got %#v\nwant %#v", p.Setup, want)
	}
}

func TestEnvExpansion(t *testing.T) {
	tests := []struct {
		name   string
		target string // the target mapping's lines
		env    map[string]string
		want   schema.Target
	}{
		{"url from the environment", "  url: ${DATABASE_URL}", map[string]string{"DATABASE_URL": "postgres://db/x"},
			schema.Target{URL: "postgres://db/x", ApplicationName: "planrun-t", Replicas: 1}},
		{"unset url means a throwaway server", "  url: ${DATABASE_URL}", nil,
			schema.Target{ApplicationName: "planrun-t", Replicas: 1}},
		{"default when unset", "  url: ${DATABASE_URL:-postgres://localhost/dev}", nil,
			schema.Target{URL: "postgres://localhost/dev", ApplicationName: "planrun-t", Replicas: 1}},
		{"default when empty", "  application_name: ${APP:-planrun-ci}", map[string]string{"APP": ""},
			schema.Target{ApplicationName: "planrun-ci", Replicas: 1}},
		{"set but empty without a default stays empty", "  application_name: x${APP}y", map[string]string{"APP": ""},
			schema.Target{ApplicationName: "xy", Replicas: 1}},
		{"double dollar is a literal", "  application_name: $${HOME} and $HOME", map[string]string{"HOME": "/root"},
			schema.Target{ApplicationName: "${HOME} and $HOME", Replicas: 1}},
		{"integers from the environment", "  replicas: ${REPLICAS:-3}", nil,
			schema.Target{ApplicationName: "planrun-t", Replicas: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, minimal+"target:\n"+tt.target+"\n", tt.env)
			got := p.Target
			got.URLPos = schema.Pos{}
			tt.want.Balance = schema.DefaultBalance
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("not expanded in sql, checks or keys", func(t *testing.T) {
		p := mustParse(t, "version: 1\nname: ${N}\ndescription: ${D:-about}\nmixes:\n  app:\n    - {name: read, sql: 'SELECT ''${X}'''}\n"+
			"scenarios:\n  - {name: s, users: 1, duration: 1s}\nassertions:\n  - {name: a, check: 'scenario != \"${X}\"'}\nverdict:\n  pass: ok ${N}\n",
			map[string]string{"N": "nightly", "X": "expanded"})
		got := []string{p.Name, p.Description, p.Mixes["app"][0].SQL, p.Assertions[0].Check.Src, p.Verdict.Pass}
		want := []string{"nightly", "about", "SELECT '${X}'", `scenario != "${X}"`, "ok nightly"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestMergeKeysAndAliases(t *testing.T) {
	p := mustParse(t, "version: 1\nname: t\nmixes:\n  app:\n    - {name: read, sql: SELECT 1}\n"+
		"scenarios:\n  - &base {name: a, mix: app, users: 5, duration: 1m, think: 1ms..2ms}\n  - {<<: *base, name: b, users: 9}\n", nil)
	b := p.Scenario("b")
	if b == nil || b.Users != 9 || b.Duration.D() != time.Minute || b.Think.Max != 2*time.Millisecond {
		t.Errorf("merged scenario b = %+v, want users 9 (explicit) and duration, think from a", b)
	}
}

func TestParseRefusesALargePlan(t *testing.T) {
	data := append([]byte(minimal+"# "), bytes.Repeat([]byte("x"), schema.MaxPlanSize)...)
	_, err := schema.Parse("plan.yaml", data, nil)
	if !errors.Is(err, schema.ErrPlanTooLarge) {
		t.Fatalf("error %v, want ErrPlanTooLarge", err)
	}
	if _, err := schema.Parse("plan.yaml", data[:schema.MaxPlanSize], nil); err != nil {
		t.Errorf("a plan of exactly MaxPlanSize bytes: %v", err)
	}
}

// TestEqualRangeEnds: a range whose ends are equal is that one duration
// (it was refused as "minimum 1s is greater than maximum 0s").
func TestEqualRangeEnds(t *testing.T) {
	for _, think := range []string{"50ms..50ms", "1s..1s", "0s..0s", "1s..1000ms"} {
		p := mustParse(t, "version: 1\nname: t\nmixes:\n  app: [{name: a, sql: SELECT 1}]\nscenarios:\n  - {name: s, users: 1, duration: 1s, think: "+think+"}\n", nil)
		if r := p.Scenarios[0].Think; r.Min != r.Max || (think != "0s..0s" && r.Min == 0) {
			t.Errorf("think: %s = %+v, want equal non-zero ends", think, r)
		}
	}
}

// TestApplicationNameFor: the default application_name carries the plan's
// name, sanitised, within PostgreSQL's 63 bytes with room for a segment's
// suffix.
func TestApplicationNameFor(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, c := range []struct{ name, want string }{
		{"checkout", "planrun-checkout"},
		{"Checkout API v2", "planrun-Checkout-API-v2"},
		{"a_b.c-d", "planrun-a_b.c-d"},
		{"zürich ☃", "planrun-z-rich--"},
		{"x'; DROP TABLE y; --", "planrun-x---DROP-TABLE-y----"},
		{"\x1b[31mred\u202e", "planrun---31mred-"},
		{"", "planrun"},
		{long, "planrun-" + long[:63-len("-1000of1000")-len("planrun-")]},
	} {
		got := schema.ApplicationNameFor(c.name)
		if got != c.want {
			t.Errorf("ApplicationNameFor(%q) = %q, want %q", c.name, got, c.want)
		}
		if len(got)+len("-1000of1000") > 63 {
			t.Errorf("ApplicationNameFor(%q) = %q: %d bytes, no room for a segment suffix within 63", c.name, got, len(got))
		}
	}
	p := mustParse(t, strings.Replace(minimal, "name: t", "name: Orders & Payments", 1), nil)
	if got, want := p.Target.ApplicationName, "planrun-Orders---Payments"; got != want {
		t.Errorf("default application_name %q, want %q", got, want)
	}
}
