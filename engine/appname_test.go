package engine_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// TestTwoPlansDefaultApplicationName runs two plans with different names at
// once on one server, both with the default application_name: the shorter
// one ends while the longer one's pool still holds its connections, and
// its server leak check must not count them (with one shared default,
// `planrun`, it counted the other plan's backends as its own leaks).
func TestTwoPlansDefaultApplicationName(t *testing.T) {
	progs := map[string]*engine.Program{}
	for name, d := range map[string]string{"short": "1s", "long": "4s"} {
		planName := fmt.Sprintf("appname %s %d", name, os.Getpid())
		src := fmt.Sprintf(`
version: 1
name: %s
pool: {size: 3, max_overflow: 0}
mixes:
  m:
    - {name: read, sql: SELECT 1, hold: 20ms}
scenarios:
  - {name: s, users: 3, duration: %s}
`, planName, d)
		plan, err := schema.Parse(name+".yaml", []byte(src), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		if want := schema.ApplicationNameFor(planName); plan.Target.ApplicationName != want {
			t.Fatalf("default application_name %q, want %q", plan.Target.ApplicationName, want)
		}
		plan.Target.URL = localpgtest.DSN(t)
		if progs[name], err = engine.Compile(plan, engine.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	runs := map[string]*results.Run{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, prog := range progs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := engine.Run(context.Background(), prog, engine.RunOptions{})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			mu.Lock()
			runs[name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	for name, r := range runs {
		sc := r.Scenarios[0]
		t.Logf("%s: application_name %q, %d ops, %d leaks %v", name, r.Target.ApplicationName, sc.Ops, sc.Leaks, sc.LeakDetails)
		if sc.Ops == 0 || sc.Leaks != 0 {
			t.Errorf("%s: %d ops, %d leaks %v; want operations and no leak", name, sc.Ops, sc.Leaks, sc.LeakDetails)
		}
		if r.Target.ApplicationName == runs["short"].Target.ApplicationName && name != "short" {
			t.Errorf("both plans ran as %q", r.Target.ApplicationName)
		}
	}
}
