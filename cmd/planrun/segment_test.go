package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
)

// TestSegmentFlags: a bad --segment or --start-at is a usage error (exit 2)
// with a hint, before the plan is even read.
func TestSegmentFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"not i/N", []string{"--segment", "2"}, "is not i/N"},
		{"zero", []string{"--segment", "0/2"}, "1 ≤ i ≤ N ≤ 1000"},
		{"index beyond count", []string{"--segment", "3/2"}, "1 ≤ i ≤ N ≤ 1000"},
		{"too many", []string{"--segment", "1/1001"}, "1 ≤ i ≤ N ≤ 1000"},
		{"start-at not RFC 3339", []string{"--start-at", "tomorrow"}, "hint: 2025-06-01T12:00:00Z"},
		{"start-at without a zone", []string{"--start-at", "2025-06-01T12:00:00"}, "is not an RFC 3339 instant"},
		// Go's zero time: it was read as no --start-at at all.
		{"start-at year 1", []string{"--start-at", "0001-01-01T00:00:00Z"}, `"0001-01-01T00:00:00Z" is before 1970`},
		{"start-at 1969", []string{"--start-at", "1969-12-31T23:59:59Z"}, "is before 1970"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := planrun(t, append([]string{plan("segment")}, c.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("want exit 2 saying %q:\n%s", c.want, r)
			}
		})
	}
}

// TestSegmentValidate: validate --segment checks that the plan splits so.
func TestSegmentValidate(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://db.invalid/x")
	if r := planrun(t, "validate", plan("segment"), "--segment", "2/2"); r.code != ExitApproved {
		t.Fatalf("2 replicas over 2 segments:\n%s", r)
	}
	r := planrun(t, "validate", "--segment", "1/3", plan("segment"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "a segment runs at least one replica") || !strings.Contains(r.stderr, "set target.replicas to at least 3") {
		t.Fatalf("2 replicas over 3 segments, want exit 2 with a hint:\n%s", r)
	}
}

// TestSegmentRun: segment 1/1 with a --start-at in the past warns, starts
// at once, and the JSON report records the segment.
func TestSegmentRun(t *testing.T) {
	useDB(t)
	startAt := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	r := planrun(t, plan("segment"), "--start-at", startAt.Format(time.RFC3339), "--format", "json")
	if r.code != ExitApproved {
		t.Fatalf("want exit 0:\n%s", r)
	}
	for _, want := range []string{"warning: --start-at", "was 1h00m ago", "started 1h00m late"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	var run results.Run
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatal(err)
	}
	if s := run.Segment; s == nil || s.Index != 1 || s.Count != 1 || !s.StartAt.Equal(startAt) || !slices.Equal(s.Replicas, []int{1, 2}) {
		t.Errorf("report records segment %+v", run.Segment)
	}
	if run.Plan.SHA256 == "" {
		t.Error("report lacks the plan's sha256")
	}
}
