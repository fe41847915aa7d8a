package schema_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/planrun/planrun/schema"
)

// FuzzParse checks that Parse never panics and that every error it returns
// is a schema.Errors whose entries all carry a position.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata", "testdata/broken"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, seed := range []string{
		minimal,
		minimal + "target:\n  url: ${DATABASE_URL:-postgres://x}\n  replicas: ${R}\n",
		minimal + "setup: &loop [*loop]\n",
		minimal + "assertions:\n  - {name: a, check: >\n      leaks == 0, scenarios: [s]}\n",
		"version: 1\nname: t\nmixes: {app: [{name: a, sql: 'SELECT $1', args: [f(1, [2, {a: 3}]), 'x''y', # c\n  nil]}]}\nscenarios: [{name: s, mix: app, stages: [{users: 1, duration: 1s}], recovery_after: 1}]\n",
		"version: 1\nname: t\n<<: {pool: {size: 1}}\n",
		"version: 1\nname: t\ntarget: {network: {latency: 2ms, jitter: 1ms, bandwidth: 10Mbit/s}}\nmixes: {app: [{name: a, sql: SELECT 1}]}\n" +
			"scenarios: [{name: s, users: 1, duration: 1m, faults: [{at: 1s, fault: stall, for: 2s}, {at: 2s, fault: lock, table: 'a.\"B\"', for: 1s}, {at: 3s, fault: terminate_backends, share: 50%}]}]\n",
		"{",
		"- a\n- b\n",
		"",
		"---\n---\n",
		"\t",
		"version: 1\nname: t\nscenarios: [{think: 1ms..}]\n",
		"version: 1\nname: t\npool_size: 3\nmixes: {app: [{name: a, sql: 'SELECT $1, $$ $2 $$, E''\\'' $3 /* $4 */', args: [1]}]}\n" +
			"scenarios: [{name: s, users: 1, duration: 2000000h, think: 0ns..9223372036854775807ns}, {name: t, stages: [{duration: 2000000h, ramp_up: 1s}, {duration: 2000000h}]}]\n",
		"version: 1\nname: t\nmixes:\n  app:\n    - name: w\n      sql: |\n        UPDATE t\n          SET v = $2 -- $3\n      args: [1]\n      hold: 25h\n" +
			"scenarios: [{name: s, users: 1, duration: 1s, think: 50ms-150ms}]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env := envOf(map[string]string{"R": "2", "EMPTY": ""})
		p, err := schema.Parse("fuzz.yaml", data, env)
		if err == nil {
			if p == nil {
				t.Fatal("nil plan without an error")
			}
			return
		}
		if p != nil {
			t.Fatal("plan returned together with an error")
		}
		var es schema.Errors
		if !errors.As(err, &es) {
			t.Fatalf("error is %T, want schema.Errors: %v", err, err)
		}
		if len(es) == 0 {
			t.Fatal("empty schema.Errors")
		}
		for _, e := range es {
			if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.File != "fuzz.yaml" {
				t.Fatalf("error without a position: %q at %+v", e.Msg, e.Pos)
			}
			if e.Msg == "" {
				t.Fatalf("error without a message at %s", e.Pos)
			}
		}
	})
}
