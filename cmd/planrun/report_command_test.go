package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// savedRun writes a minimal JSON report, with the status that set gives it
// (completed when nil) and the verdict pass, and returns its path.
func savedRun(t *testing.T, name string, set func(*results.Run), pass bool) string {
	t.Helper()
	start := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	run := &results.Run{
		SchemaVersion: results.SchemaVersion,
		Plan:          results.PlanInfo{Name: name, File: name + ".yaml"},
		StartedAt:     start,
		FinishedAt:    start.Add(2 * time.Second),
		Verdict:       results.Verdict{Pass: pass, Label: "NOT APPROVED FOR PRODUCTION"},
		Status:        results.StatusCompleted,
		TimeScale:     1,
	}
	if set != nil {
		set(run)
		run.StatusReason = "stopped for the test"
	}
	if pass {
		run.Verdict.Label = "APPROVED FOR PRODUCTION"
	}
	var buf bytes.Buffer
	if err := report.JSON(&buf, run); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReportExitCode: `planrun report` exits 0 once it rendered, whatever
// the saved verdict (a re-render step under `set -e` must not fail);
// --exit-code gives back the code the run exited with.
func TestReportExitCode(t *testing.T) {
	tests := []struct {
		name     string
		status   func(*results.Run) // nil: completed
		pass     bool
		exitCode int
	}{
		{"approved", nil, true, ExitApproved},
		{"not approved", nil, false, ExitNotApproved},
		{"could not run", func(r *results.Run) { r.Status = results.StatusFailed }, false, ExitCouldNotRun},
		{"aborted", func(r *results.Run) { r.Status = results.StatusAborted }, false, ExitAborted},
		{"interrupted", func(r *results.Run) { r.Status = results.StatusInterrupted }, false, ExitAborted},
		{"inconclusive", func(r *results.Run) {
			r.Verdict = results.Verdict{Label: "INCONCLUSIVE", Inconclusive: true, Reason: "the load generator fell behind (timer lateness p99 180ms, CPU 1.96 of 2 cores)"}
		}, false, ExitInconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := savedRun(t, strings.ReplaceAll(tt.name, " ", "_"), tt.status, tt.pass)
			for _, format := range report.Formats {
				r := planrun(t, "report", path, "--format", format)
				if r.code != ExitApproved {
					t.Errorf("report --format %s: want exit 0 after rendering, got %s", format, r)
				}
				if r.stdout == "" {
					t.Errorf("report --format %s rendered nothing", format)
				}
				c := planrun(t, "report", path, "--format", format, "--exit-code")
				if c.code != tt.exitCode {
					t.Errorf("report --format %s --exit-code: want exit %d, got %s", format, tt.exitCode, c)
				}
				if c.stdout != r.stdout {
					t.Errorf("--exit-code changed what was rendered")
				}
			}
		})
	}
	t.Run("usage", func(t *testing.T) {
		path := savedRun(t, "usage", nil, false)
		for name, args := range map[string][]string{
			"missing file":   {"report", filepath.Join(t.TempDir(), "nope.json"), "--exit-code"},
			"unknown format": {"report", path, "--format", "pdf", "--exit-code"},
			"two files":      {"report", path, path},
			"unknown flag":   {"report", path, "--exit-cod"},
		} {
			if r := planrun(t, args...); r.code != ExitUsage || r.stdout != "" {
				t.Errorf("%s: want exit 2 and nothing on stdout, got %s", name, r)
			}
		}
	})
}

// TestPreflightOutputFlags: `planrun preflight` takes the output flags of a
// run that apply without load (--format, --no-color, --quiet).
func TestPreflightOutputFlags(t *testing.T) {
	useDB(t)
	t.Run("table without colour, quiet", func(t *testing.T) {
		r := planrun(t, "preflight", plan("approved"), "--no-color", "--quiet")
		if r.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", r)
		}
		if strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("--no-color output holds ANSI escapes:\n%s", r.stdout)
		}
		if !strings.HasSuffix(strings.TrimRight(r.stdout, "\n"), "PREFLIGHT PASSED") {
			t.Errorf("the table does not end with the preflight verdict:\n%s", r.stdout)
		}
		if r.stderr != "" {
			t.Errorf("--quiet printed on stderr:\n%s", r.stderr)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := planrun(t, "preflight", "--format", "json", plan("approved"), "--no-color")
		if r.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", r)
		}
		run := decodeRun(t, r)
		if len(run.Preflight) == 0 || len(run.Scenarios) != 0 || !run.Verdict.Pass {
			t.Errorf("want preflight checks, no scenarios and a passing verdict, got %d checks, %d scenarios, pass %v",
				len(run.Preflight), len(run.Scenarios), run.Verdict.Pass)
		}
	})
	t.Run("unknown format is a usage error before connecting", func(t *testing.T) {
		r := planrun(t, "preflight", plan("approved"), "--format", "pdf")
		if r.code != ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, "pdf") {
			t.Errorf("want exit 2 naming the format and nothing on stdout, got %s", r)
		}
	})
}

// TestReportAndCompareRefuseValuesOutOfRange: a JSON report with values no
// run can produce (the attack's huge negative `elapsed` once crashed
// `planrun report`) is refused by report and compare alike with exit 2, a
// message naming the field, and nothing on stdout.
func TestReportAndCompareRefuseValuesOutOfRange(t *testing.T) {
	good := savedRun(t, "good", nil, true)
	tests := []struct {
		name  string
		set   func(*results.Scenario)
		field string
	}{
		{"huge negative elapsed", func(s *results.Scenario) { s.Elapsed = math.MinInt64 }, "scenarios[0] (s).elapsed"},
		{"negative count", func(s *results.Scenario) { s.Ops = -1 }, "scenarios[0] (s).ops"},
		{"success rate above 1", func(s *results.Scenario) { s.SuccessRate = 7 }, "scenarios[0] (s).success_rate"},
		{"percentile past max", func(s *results.Scenario) {
			s.Acquire = results.Latency{Count: 1, Min: time.Millisecond, P50: time.Hour, Max: time.Millisecond}
		}, "scenarios[0] (s).acquire.p50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := savedRun(t, "bad", func(r *results.Run) {
				sc := results.Scenario{Name: "s", Status: results.StatusCompleted, SuccessRate: 1}
				tt.set(&sc)
				r.Scenarios = []results.Scenario{sc}
			}, false)
			for name, args := range map[string][]string{
				"report":            {"report", bad},
				"report json":       {"report", bad, "--format", "json", "--exit-code"},
				"compare, new":      {"compare", good, bad},
				"compare, baseline": {"compare", bad, good, "--format", "markdown"},
			} {
				r := planrun(t, args...)
				if r.code != ExitUsage || r.stdout != "" {
					t.Errorf("%s: want exit 2 and nothing on stdout, got %s", name, r)
				}
				if !strings.Contains(r.stderr, bad) || !strings.Contains(r.stderr, tt.field) {
					t.Errorf("%s: the message names neither the file nor the field %s:\n%s", name, tt.field, r.stderr)
				}
			}
		})
	}
}

// TestReportRecomputesRecommendations: `planrun report` on a saved run
// without recommendations (a report of an older planrun) computes them
// from the run alone, in every format.
func TestReportRecomputesRecommendations(t *testing.T) {
	h := hdrhistogram.New(results.HistogramLowest, results.HistogramHighest, results.HistogramSigFigs)
	for i := range 1000 {
		_ = h.RecordValue(int64(10*time.Millisecond + time.Duration(i)*20*time.Microsecond))
	}
	path := savedRun(t, "old", func(r *results.Run) {
		r.Status = results.StatusCompleted
		r.Pool = results.Pool{Size: 4, MaxOverflow: 2, Timeout: 5 * time.Second}
		r.Target.Replicas = 1
		r.Scenarios = []results.Scenario{{Name: "normal", Mix: "m", Status: results.StatusCompleted, Model: results.ModelOpen, Rate: 100,
			Arrivals: 1000, Planned: 10 * time.Second, Elapsed: 10 * time.Second, Ops: 1000, SuccessRate: 1,
			Acquire: results.Latency{Count: 1000, P95: time.Millisecond, P99: time.Millisecond, Max: time.Millisecond}, Hold: hdr.Summarize(h)}}
	}, true)
	var out, errOut bytes.Buffer
	if code := cmdReport([]string{"--format", "json", path}, &out, &errOut); code != ExitApproved {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got results.Run
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	r := got.Recommendations
	if r == nil || len(r.Scenarios) != 1 || r.Pool.Size < 1 || r.Target.Limit != 200*time.Millisecond {
		t.Fatalf("recommendations %+v, want the guide's target and one scenario", r)
	}
	out.Reset()
	if code := cmdReport([]string{"--format", "markdown", path}, &out, &errOut); code != ExitApproved || !strings.Contains(out.String(), "### Recommendations") {
		t.Errorf("markdown (exit %d) has no recommendations:\n%s", code, out.String())
	}
}
