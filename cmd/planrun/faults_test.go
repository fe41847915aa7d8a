package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planrun/planrun/results"
)

// TestFaultMarkersInEveryFormat runs a plan with a network and two faults
// and checks that the terminal table, the markdown and the JSON report all
// show each fault with what it did, and that the network is named as
// covering the pool's connections only.
func TestFaultMarkersInEveryFormat(t *testing.T) {
	useDB(t)
	out := t.TempDir()
	r := planrun(t, plan("faults"), "--out", out)
	if r.code != ExitApproved {
		t.Fatalf("want exit 0:\n%s", r)
	}
	files, _ := filepath.Glob(filepath.Join(out, "faults_*.json"))
	if len(files) != 1 {
		t.Fatalf("want one JSON report in --out, got %v", files)
	}
	run, err := results.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if n := run.Target.Network; n == nil || n.Latency.Milliseconds() != 1 {
		t.Errorf("JSON target.network = %+v, want latency 1ms", n)
	}
	faults := run.Scenarios[0].Faults
	if len(faults) != 2 {
		t.Fatalf("JSON has %d faults, want 2: %+v", len(faults), faults)
	}
	for _, f := range faults {
		if f.Status != results.FaultApplied || f.Effect == "" || f.Recovery == nil {
			t.Errorf("JSON fault %+v: want applied, with its effect and recovery", f)
		}
	}
	md, err := os.ReadFile(strings.TrimSuffix(files[0], ".json") + ".md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range faults {
		if !strings.Contains(string(md), f.What) || !strings.Contains(string(md), f.Effect) {
			t.Errorf("the markdown does not show fault %q with its effect %q", f.What, f.Effect)
		}
		// The terminal table wraps long cells: every word must be there.
		for _, w := range strings.Fields(f.What + " " + f.Effect) {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("the table does not show %q of fault %q (%q)", w, f.What, f.Effect)
			}
		}
	}
	for name, text := range map[string]string{"table": r.stdout, "markdown": string(md)} {
		if !strings.Contains(text, "pool connections only") {
			t.Errorf("the %s does not say the network covers the pool's connections only", name)
		}
	}
	if !strings.Contains(string(md), "⚡") {
		t.Error("the markdown time series marks no fault")
	}
}

// TestRestartNeedsTheEmbeddedServer: a restart fault with a URL target is
// refused by preflight, before any load: exit 3 with the reason.
func TestRestartNeedsTheEmbeddedServer(t *testing.T) {
	useDB(t)
	r := planrun(t, plan("restart_url"), "--quiet")
	if r.code != ExitCouldNotRun {
		t.Fatalf("want exit %d:\n%s", ExitCouldNotRun, r)
	}
	if !strings.Contains(r.stderr+r.stdout, "embedded server") {
		t.Errorf("the output does not say why:\n%s", r)
	}
}
