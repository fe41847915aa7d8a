package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// segmentReport writes the JSON report of segment index/count of the plan
// at planPath: scenario "steady" with ops operations of 1 ms, and returns
// its path.
func segmentReport(t *testing.T, dir, planPath string, index, count int, ops int64) string {
	t.Helper()
	plan, err := schema.Load(planPath)
	if err != nil {
		t.Fatal(err)
	}
	h := hdrhistogram.New(1000, int64(time.Hour), 3)
	for range ops {
		_ = h.RecordValue(int64(time.Millisecond) * int64(index))
	}
	lat := hdr.Summarize(h)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(index) * 100 * time.Millisecond)
	run := &results.Run{
		SchemaVersion: results.SchemaVersion, PlanrunVersion: version,
		Plan:      results.PlanInfo{Name: plan.Name, File: planPath, SHA256: plan.SHA256},
		Target:    results.Target{Replicas: 1, ApplicationName: "planrun-cli-test"},
		Pool:      results.Pool{Size: 2, MaxOverflow: 1, Timeout: 5 * time.Second},
		StartedAt: start, FinishedAt: start.Add(2 * time.Second), Status: results.StatusCompleted, TimeScale: 1,
		Scenarios: []results.Scenario{{
			Name: "steady", Mix: "app", Status: results.StatusCompleted, Model: results.ModelClosed, StartedAt: start,
			Planned: time.Second, Elapsed: time.Second, MaxUsers: 1, Ops: ops, SuccessRate: 1, Throughput: float64(ops),
			Acquire: lat, Query: lat, Op: lat, Hold: lat, ErrorsBy: map[string]int64{},
			Operations:  []results.Operation{{Name: "ping", Weight: 1, Share: 1, Ops: ops, SuccessRate: 1, Acquire: lat, Query: lat, Op: lat}},
			Connections: results.Connections{Opened: 1, Closed: 1, ClosedBy: map[string]int64{results.CloseEnd: 1}, MaxOpen: 1},
			Series:      []results.Point{{T: time.Second, Users: 1, Ops: ops}},
			SeriesStep:  time.Second,
		}},
		Segment: &results.Segment{Index: index, Count: count, Replicas: []int{1}},
	}
	var buf bytes.Buffer
	if err := report.JSON(&buf, run); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(planPath)+"-"+string(rune('0'+index))+".json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	approved := filepath.Join("testdata", "approved.yaml")
	a := segmentReport(t, dir, approved, 1, 2, 30)
	b := segmentReport(t, dir, approved, 2, 2, 50)

	t.Run("approved, with the merged reports written", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "reports")
		r := planrun(t, "merge", b, a, "--out", out)
		if r.code != ExitApproved {
			t.Fatalf("want exit 0:\n%s", r)
		}
		if !strings.Contains(r.stderr, "merged 2 segments: "+a+", "+b) {
			t.Errorf("stderr does not name the merged files in segment order:\n%s", r)
		}
		files, _ := filepath.Glob(filepath.Join(out, "approved_*.json"))
		if len(files) != 1 {
			t.Fatalf("reports in %s: %v, want one JSON\n%s", out, files, r)
		}
		run, err := results.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		sc := run.Scenarios[0]
		if run.Merged == nil || strings.Join(run.Merged.Files, " ") != a+" "+b || run.Segment != nil {
			t.Errorf("merged %+v segment %+v; want both files in segment order", run.Merged, run.Segment)
		}
		if sc.Ops != 80 || sc.Op.Count != 80 || sc.Op.Min > time.Millisecond || sc.Op.P50 < 2*time.Millisecond || !run.Verdict.Pass {
			t.Errorf("ops %d, op %+v, verdict %+v; want 80 ops, 30 of 1 ms and 50 of 2 ms, approved", sc.Ops, sc.Op, run.Verdict)
		}
		if len(run.Assertions) == 0 {
			t.Error("no assertions were evaluated on the merged record")
		}
	})
	t.Run("json on stdout", func(t *testing.T) {
		r := planrun(t, "merge", a, b, "--format", "json")
		if r.code != ExitApproved || !strings.Contains(r.stdout, `"merged"`) {
			t.Fatalf("want exit 0 and the merged JSON:\n%s", r)
		}
	})
	t.Run("not approved", func(t *testing.T) {
		notApproved := filepath.Join("testdata", "not_approved.yaml")
		na := segmentReport(t, t.TempDir(), notApproved, 1, 2, 10)
		nb := segmentReport(t, t.TempDir(), notApproved, 2, 2, 10)
		r := planrun(t, "merge", na, nb)
		if r.code != ExitNotApproved || !strings.Contains(r.stdout, "nothing was acquired") {
			t.Fatalf("want exit 1 with the failing assertion:\n%s", r)
		}
	})

	other := segmentReport(t, t.TempDir(), filepath.Join("testdata", "not_approved.yaml"), 2, 2, 10)
	three := segmentReport(t, t.TempDir(), approved, 2, 3, 10)
	whole := filepath.Join(t.TempDir(), "whole.json")
	{
		run, err := results.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		run.Segment = nil
		var buf bytes.Buffer
		if err := report.JSON(&buf, run); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(whole, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	changed := filepath.Join(t.TempDir(), "approved.yaml")
	data, err := os.ReadFile(approved)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changed, append(data, []byte("# edited\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"a segment is missing", []string{a}, "segment 2 of 2 is missing"},
		{"a segment given twice", []string{a, b, a}, "segment 1 given twice: " + a + " and " + a},
		{"different plans", []string{a, other}, "ran different plans"},
		{"different splits", []string{a, three}, "the plan was split differently"},
		{"not a segment", []string{whole, b}, whole + " is not a segment report (run with --segment i/N)"},
		{"the plan changed", []string{a, b, "--plan", changed}, "the plan changed since the run"},
		{"no reports", nil, "merge takes the JSON reports of every segment"},
		{"not a report", []string{approved, b}, "not a planrun JSON report"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := planrun(t, append([]string{"merge"}, tt.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("want exit 2 and %q on stderr:\n%s", tt.want, r)
			}
		})
	}
}
