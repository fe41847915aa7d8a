package plans_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/internal/pystack"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// planDirs are the directories whose *.yaml files are plans, relative to
// this package.
var planDirs = []string{".", "../examples"}

// maxRunDuration is the longest total scenario duration of a plan that
// TestExamplesRun runs; longer plans are only compiled.
const maxRunDuration = 5 * time.Second

// runTimeout bounds one example's run: its load, setup, teardown and drain.
const runTimeout = 60 * time.Second

// planFiles returns every *.yaml of dir, sorted.
func planFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// dirName names a plan directory in subtest names ("plans", "examples").
func dirName(dir string) string {
	if dir == "." {
		return "plans"
	}
	return filepath.Base(dir)
}

// load loads, compiles and compiles the assertions of the plan at path,
// failing the test with every positioned error.
func load(t *testing.T, path string) (*schema.Plan, *engine.Program, *assertions.Set) {
	t.Helper()
	return loadOn(t, path, nil)
}

// loadOn is load with the plan's target set by target before it compiles.
func loadOn(t *testing.T, path string, target func(*schema.Plan)) (*schema.Plan, *engine.Program, *assertions.Set) {
	t.Helper()
	plan, err := schema.Load(path)
	if err != nil {
		t.Fatalf("load:\n%v", err)
	}
	if target != nil {
		target(plan)
	}
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("compile:\n%v", err)
	}
	set, err := assertions.Compile(plan)
	if err != nil {
		t.Fatalf("compile assertions:\n%v", err)
	}
	return plan, prog, set
}

// TestPlansCompile loads and compiles every shipped plan and example, as
// `planrun validate` does, so a plan that no longer matches the format fails
// here with its file:line:col.
func TestPlansCompile(t *testing.T) {
	total := 0
	for _, dir := range planDirs {
		files := planFiles(t, dir)
		total += len(files)
		t.Run(dirName(dir), func(t *testing.T) {
			for _, path := range files {
				t.Run(filepath.Base(path), func(t *testing.T) {
					_, prog, _ := load(t, path)
					if len(prog.ScenarioNames()) == 0 {
						t.Error("compiled to no scenario")
					}
				})
			}
		})
	}
	if total == 0 {
		t.Fatal("no plan found: the globs are wrong")
	}
}

// TestExamplesRun runs every short example (at most maxRunDuration of load)
// against the test server and checks that it completes, that every scenario
// did work, and that the example's own assertions pass: each example is
// written to pass on a healthy, even busy, machine.
func TestExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load against PostgreSQL; skipped with -short")
	}
	files := planFiles(t, "../examples")
	if len(files) == 0 {
		t.Fatal("no example found")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// A service example starts the reference service with the
			// python3 that has its stack (PYTHON, which its launcher
			// examples/service/serve.sh honours).
			if plan, _, _ := load(t, path); plan.Target.Service != nil {
				servicePython(t)
			}
			// Every example runs on the one test server, except one that
			// restarts its server: that needs the embedded one.
			plan, prog, set := loadOn(t, path, func(p *schema.Plan) {
				if !restarts(p) {
					p.Target.URL = localpgtest.DSN(t)
				}
			})
			if d := prog.Duration(); d > maxRunDuration {
				t.Skipf("%s of load, longer than the %s this test runs", d, maxRunDuration)
			}

			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			run, err := engine.Run(ctx, prog, engine.RunOptions{Live: []live.Sink{set.Live()}, Logf: t.Logf, Version: "test"})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			run.Assertions, run.Verdict = set.Evaluate(run, nil)

			if run.Status != results.StatusCompleted {
				t.Errorf("run status = %s (%s), want %s", run.Status, run.StatusReason, results.StatusCompleted)
			}
			if len(run.Scenarios) != len(plan.Scenarios) {
				t.Errorf("%d scenarios ran, want %d", len(run.Scenarios), len(plan.Scenarios))
			}
			for _, sc := range run.Scenarios {
				if sc.Ops == 0 {
					t.Errorf("scenario %s: no operation", sc.Name)
				}
				if sc.Status != results.StatusCompleted {
					t.Errorf("scenario %s: status %s, want %s", sc.Name, sc.Status, results.StatusCompleted)
				}
				for _, l := range sc.LeakDetails {
					t.Logf("scenario %s: leak %+v", sc.Name, l)
				}
				for cat, msg := range sc.ErrorSamples {
					t.Logf("scenario %s: %d %s errors, first: %s", sc.Name, sc.ErrorsBy[cat], cat, msg)
				}
			}
			for _, o := range run.Assertions {
				switch o.Status {
				case results.OutcomeFail, results.OutcomeError:
					t.Logf("%s %s on %s (%s): %s %s", o.Status, o.Name, o.Scenario, o.Severity, o.Actual, o.Reason)
				}
			}
			if run.Verdict.Inconclusive {
				// The run itself says this machine was too busy for its
				// figures to describe the pool: the example cannot be judged.
				t.Skipf("INCONCLUSIVE on this busy machine: %s", run.Verdict.Reason)
			}
			if !run.Verdict.Pass {
				for _, sc := range run.Scenarios {
					// A server on this machine (the test server) is slowed by
					// a saturated machine while planrun's timers stay on
					// time: the run says so in its own CPU figures.
					if g := sc.Generator; g.Saturated() {
						t.Skipf("not approved on a saturated machine (%.2f of %d cores busy in %s): the example is judged on a healthy one", g.MachineCPU, g.Cores, sc.Name)
					}
				}
				t.Errorf("verdict %q, want %q (the example must pass on a healthy machine)", run.Verdict.Label, plan.Verdict.Pass)
			} else if run.Verdict.Label != plan.Verdict.Pass {
				t.Errorf("verdict label %q, want the plan's %q", run.Verdict.Label, plan.Verdict.Pass)
			}
		})
	}
}

// servicePython sets PYTHON to a python3 that has the reference service's
// stack (internal/pystack), for the plans that start it; without one the
// test is skipped, except in CI (CI set), where it fails.
func servicePython(t *testing.T) {
	t.Helper()
	py, err := pystack.Find(pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Setenv("PYTHON", py)
}

// TestExamplesDocumented checks that every example says what it shows and
// how to run it, and is listed in examples/README.md.
func TestExamplesDocumented(t *testing.T) {
	readme, err := os.ReadFile("../examples/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range planFiles(t, "../examples") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "# yaml-language-server: $schema=../schema/plan.schema.json\n") {
				t.Error("first line is not the yaml-language-server $schema comment")
			}
			head, _, _ := strings.Cut(string(data), "\nversion:")
			if !strings.Contains(head, "planrun examples/"+name) {
				t.Errorf("the opening comment block does not say how to run it (`planrun examples/%s`)", name)
			}
			if !strings.Contains(string(readme), "["+name+"]("+name+")") {
				t.Errorf("examples/README.md does not list it as [%s](%s)", name, name)
			}
		})
	}
}

// restarts reports whether a scenario of p has a restart fault.
func restarts(p *schema.Plan) bool {
	for _, sc := range p.Scenarios {
		for _, f := range sc.Faults {
			if f.Fault == schema.FaultRestart {
				return true
			}
		}
	}
	return false
}
