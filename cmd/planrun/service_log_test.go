package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planrun/planrun/results"
)

// servicePlan starts a service whose Python lacks a module: it exits at
// once, so the run fails at the service stage, after preflight.
const servicePlan = `
version: 1
name: svc-log
target:
  url: ${DATABASE_URL}
  service:
    start: [python3, -c, "import nosuchmodule_planrun", "{port}"]
    processes: 2
pool: {size: 2, max_overflow: 1}
mixes:
  api:
    - name: get
      http: GET /
    - name: sql
      sql: SELECT 1
scenarios:
  - name: s
    users: 1
    duration: 1s
`

// TestServiceLogBesideReports runs a plan whose service cannot start twice
// into the same --out: each run's service log is named after its reports
// (<plan>_<timestamp>.service.log), so the second keeps the first's, and
// each JSON report's target.service_log names its own. The failure's hint
// names the missing module and the interpreter; the capacity check counted
// the service's processes and planrun's pool (the mix holds SQL).
func TestServiceLogBesideReports(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip(err)
	}
	useDB(t)
	planPath := filepath.Join(t.TempDir(), "svc-log.yaml")
	if err := os.WriteFile(planPath, []byte(servicePlan), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "reports")
	logs := map[string]bool{}
	for i := range 2 {
		r := planrun(t, planPath, "--format", "json", "--out", out)
		if r.code != ExitCouldNotRun {
			t.Fatalf("run %d: want exit %d, got %s", i+1, ExitCouldNotRun, r)
		}
		for _, want := range []string{"lacks the module nosuchmodule_planrun", "(python3, the first element of target.service.start)",
			"No module named 'nosuchmodule_planrun'"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("run %d: stderr lacks %q:\n%s", i+1, want, r.stderr)
			}
		}
		t.Logf("run %d:\n%s", i+1, r.stderr)
		run := decodeRun(t, r)
		if c, ok := checkNamed(run.Preflight, "capacity"); !ok ||
			!strings.Contains(c.Reason, "needs service 2 × (2 + 1) = 6 + planrun's pool 1 × (2 + 1) = 3 → 9 connections") {
			t.Errorf("run %d: capacity check %+v, want the service's 2 processes and planrun's pool counted", i+1, c)
		}
		log := run.Target.ServiceLog
		if filepath.Dir(log) != out || !strings.HasSuffix(log, ".service.log") {
			t.Fatalf("run %d: service_log %q, want <base>.service.log in %s", i+1, log, out)
		}
		base := strings.TrimSuffix(filepath.Base(log), ".service.log")
		if !strings.HasPrefix(base, "svc-log_") {
			t.Errorf("run %d: service log %q is not named after the plan's reports", i+1, log)
		}
		report := filepath.Join(out, base+".json")
		if _, err := os.Stat(report); err != nil {
			t.Errorf("run %d: no report %s beside its service log: %v", i+1, report, err)
		}
		logs[log] = true
	}
	if len(logs) != 2 {
		t.Fatalf("the two runs share their service log: %v", logs)
	}
	for log := range logs {
		b, err := os.ReadFile(log)
		if err != nil || !strings.Contains(string(b), "nosuchmodule_planrun") {
			t.Errorf("service log %s: %v, %q: want the service's own output", log, err, b)
		}
	}
}

// checkNamed returns the check with the given name.
func checkNamed(checks []results.Check, name string) (results.Check, bool) {
	for _, c := range checks {
		if c.Name == name {
			return c, true
		}
	}
	return results.Check{}, false
}
