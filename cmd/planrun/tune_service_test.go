package main

import (
	"os"
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/pystack"
	"github.com/planrun/planrun/results"
)

// TestTuneVariesTheServicesPool: with --size-env and --overflow-env, each
// run of `planrun tune` starts the reference service with the candidate
// pool in its env. At 15 requests a second of a 100 ms hold, the plan's
// POOL_SIZE 1 (10 a second at most) queues, so only a larger pool that the
// flags handed to the service can pass: the smallest passing size is above
// 1, the size below it failed, and every verdict agrees with its own p95.
func TestTuneVariesTheServicesPool(t *testing.T) {
	py, err := pystack.Find(pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Setenv("PYTHON", py)
	useDB(t)
	r, rec := tuning(t, plan("tune-service"), "--scenario", "steady", "--size", "1..4",
		"--size-env", "POOL_SIZE", "--overflow-env", "POOL_MAX_OVERFLOW")
	for _, tr := range rec.Tries {
		t.Logf("size %d + %d (%s): %s %s", tr.Size, tr.MaxOverflow, tr.Why, tr.Verdict, tr.Reason)
	}
	if r.code == ExitInconclusive {
		t.Skipf("every run was inconclusive on this busy machine\n%s", r)
	}
	if r.code != ExitApproved || rec.Smallest == nil {
		t.Fatalf("want a passing size (exit 0)\n%s", r)
	}
	if rec.Smallest.Size < 2 {
		t.Errorf("smallest passing size %d: one connection serves 10 requests a second at most, not 15", rec.Smallest.Size)
	}
	verdicts := map[int]string{}
	for _, tr := range rec.Tries {
		if tr.Verdict == results.TunePass || tr.Verdict == results.TuneFail {
			verdicts[tr.Size] = tr.Verdict
		}
	}
	if verdicts[1] != results.TuneFail {
		t.Errorf("size 1 (the plan's): %q, want fail", verdicts[1])
	}
	if verdicts[rec.Smallest.Size] != results.TunePass {
		t.Errorf("the smallest passing size %d did not pass: %v", rec.Smallest.Size, verdicts)
	}
}

// TestTuneServiceEnvNeedsAStartedService: the flags need a service that
// planrun starts (a usage error otherwise).
func TestTuneServiceEnvNeedsAStartedService(t *testing.T) {
	useDB(t)
	r := planrun(t, "tune", plan("tune"), "--scenario", "steady", "--size-env", "POOL_SIZE")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "the plan has no target.service") {
		t.Errorf("want exit 2 naming the missing service\n%s", r)
	}
}
