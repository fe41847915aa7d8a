package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
)

// TestSegmentsMergeIntoTheWholeRun runs one plan as --segment 1/2 and 2/2
// in two processes at once against the same server, merges their reports,
// and checks the merge against the segments (sums, exact histogram counts)
// and against the same plan run whole (throughput within 10 %, the same
// verdict).
func TestSegmentsMergeIntoTheWholeRun(t *testing.T) {
	dsn := localpgtest.DSN(t)
	env := []string{"DATABASE_URL=" + dsn}
	out := t.TempDir()
	// Time for both processes to start and pass preflight on a busy machine.
	startAt := time.Now().Add(8 * time.Second).UTC().Format(time.RFC3339)
	var procs []*process
	for _, seg := range []string{"1/2", "2/2"} {
		dir := filepath.Join(out, strings.Replace(seg, "/", "-of-", 1))
		procs = append(procs, startPlanrun(t, env, "run", plan("segments"), "--segment", seg, "--start-at", startAt, "--out", dir, "--quiet"))
	}
	var files []string
	var segs []*results.Run
	for i, p := range procs {
		r := p.wait()
		if r.code == ExitInconclusive {
			t.Skipf("segment %d ended INCONCLUSIVE on this busy machine:\n%s", i+1, lastLines(r.stdout+r.stderr, 3))
		}
		if r.code != ExitApproved {
			t.Fatalf("segment %d: %s", i+1, r)
		}
	}
	for _, seg := range []string{"1-of-2", "2-of-2"} {
		found, _ := filepath.Glob(filepath.Join(out, seg, "segments_*.json"))
		if len(found) != 1 {
			t.Fatalf("segment %s wrote %v", seg, found)
		}
		run, err := results.ReadFile(found[0])
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, found[0])
		segs = append(segs, run)
	}

	mergedDir := filepath.Join(out, "merged")
	m := planrun(t, append([]string{"merge"}, append(files, "--out", mergedDir)...)...)
	if m.code != ExitApproved {
		t.Fatalf("merge: %s", m)
	}
	found, _ := filepath.Glob(filepath.Join(mergedDir, "segments_*.json"))
	if len(found) != 1 {
		t.Fatalf("merge wrote %v", found)
	}
	merged, err := results.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	if merged.Merged == nil || merged.Merged.Segments != 2 || len(merged.Merged.Files) != 2 {
		t.Errorf("merged = %+v, want 2 segments from 2 files", merged.Merged)
	}
	ms := merged.Scenarios[0]
	a, b := segs[0].Scenarios[0], segs[1].Scenarios[0]
	t.Logf("segment ops %d + %d, merged %d; throughput %.1f + %.1f, merged %.1f; started %v apart",
		a.Ops, b.Ops, ms.Ops, a.Throughput, b.Throughput, ms.Throughput, b.StartedAt.Sub(a.StartedAt))
	if ms.Ops != a.Ops+b.Ops || ms.Errors != a.Errors+b.Errors {
		t.Errorf("merged ops/errors %d/%d, want the sums %d/%d", ms.Ops, ms.Errors, a.Ops+b.Ops, a.Errors+b.Errors)
	}
	for name, l := range map[string][3]results.Latency{
		"acquire": {a.Acquire, b.Acquire, ms.Acquire}, "query": {a.Query, b.Query, ms.Query},
		"op": {a.Op, b.Op, ms.Op}, "hold": {a.Hold, b.Hold, ms.Hold},
	} {
		if l[2].Count != l[0].Count+l[1].Count {
			t.Errorf("merged %s count %d, want %d + %d", name, l[2].Count, l[0].Count, l[1].Count)
		}
		if l[2].Max != max(l[0].Max, l[1].Max) {
			t.Errorf("merged %s max %v, want the larger of %v and %v", name, l[2].Max, l[0].Max, l[1].Max)
		}
	}
	if len(ms.Replicas) != 2 || ms.Replicas[0].Index != 1 || ms.Replicas[1].Index != 2 {
		t.Errorf("merged replicas %+v, want replicas 1 and 2", ms.Replicas)
	}
	if d := b.StartedAt.Sub(a.StartedAt).Abs(); d > time.Second {
		t.Errorf("the segments started %v apart despite --start-at", d)
	}

	// The same plan run whole, right after, on the same server.
	whole := t.TempDir()
	w := planrun(t, "run", plan("segments"), "--out", whole, "--quiet")
	if w.code != m.code {
		t.Errorf("whole run exit %d, merged verdict exit %d", w.code, m.code)
	}
	found, _ = filepath.Glob(filepath.Join(whole, "segments_*.json"))
	if len(found) != 1 {
		t.Fatalf("the whole run wrote %v", found)
	}
	wr, err := results.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	ws := wr.Scenarios[0]
	t.Logf("whole run: ops %d, throughput %.1f, hold mean %v; merged hold mean %v", ws.Ops, ws.Throughput, ws.Hold.Mean, ms.Hold.Mean)
	// Both are saturated: throughput is 6 connections / the hold each
	// measured, so compare them per unit of hold (the machine may stretch
	// holds differently in the two runs).
	wholeRate := ws.Throughput * ws.Hold.Mean.Seconds()
	mergedRate := ms.Throughput * ms.Hold.Mean.Seconds()
	if diff := mergedRate/wholeRate - 1; diff > 0.1 || diff < -0.1 {
		t.Errorf("merged throughput × hold %.2f vs whole %.2f: %+.0f%%, want within 10%% (raw %.1f vs %.1f ops/s)",
			mergedRate, wholeRate, 100*diff, ms.Throughput, ws.Throughput)
	}
	if merged.Verdict.Pass != wr.Verdict.Pass || merged.Verdict.Label != wr.Verdict.Label {
		t.Errorf("merged verdict %q (pass %v), whole run %q (pass %v)", merged.Verdict.Label, merged.Verdict.Pass, wr.Verdict.Label, wr.Verdict.Pass)
	}
}
