package results_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/planrun/planrun/results"
)

// The testdata files v1-*.json are version-1 reports as planrun 0.3 wrote
// them (report/testdata/*.json.golden before schema_version 2).

func TestDecodeUpgradesVersion1(t *testing.T) {
	tests := []struct {
		file string
		// recovery is the status wanted for the scenario that measures recovery.
		recovery results.RecoveryStatus
	}{
		{"v1-passing.json", results.RecoveryRecovered},
		{"v1-failing.json", results.RecoveryNotRecovered},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			run, err := results.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if run.SchemaVersion != results.SchemaVersion {
				t.Errorf("schema_version = %d, want it upgraded to %d", run.SchemaVersion, results.SchemaVersion)
			}
			if len(run.Scenarios) == 0 {
				t.Fatal("no scenarios decoded")
			}
			measured := 0
			for _, sc := range run.Scenarios {
				if sc.Recovery != nil {
					measured++
					if sc.Recovery.Status != tt.recovery {
						t.Errorf("%s: recovery status = %q, want %q", sc.Name, sc.Recovery.Status, tt.recovery)
					}
				}
				for _, op := range sc.Operations {
					want := 1.0
					if op.Ops > 0 {
						want = 1 - float64(op.Errors)/float64(op.Ops)
					}
					if op.SuccessRate != want {
						t.Errorf("%s/%s: success_rate = %v, want %v (from ops and errors)", sc.Name, op.Name, op.SuccessRate, want)
					}
				}
			}
			if measured != 1 {
				t.Errorf("%d scenarios measure recovery, want 1", measured)
			}
			if run.Status != results.StatusCompleted {
				t.Errorf("status = %q", run.Status)
			}
		})
	}
}

func TestDecodeRoundTripsCurrentVersion(t *testing.T) {
	run, err := results.ReadFile(filepath.Join("testdata", "v1-failing.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"schema_version":2`)) || !bytes.Contains(data, []byte(`"status":"not_recovered"`)) {
		t.Errorf("re-encoded report lacks schema_version 2 or the recovery status")
	}
	again, err := results.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, run) {
		t.Error("decoding a version-2 report changed it")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"empty", "  \n", "the input is not a planrun JSON report: it is empty"},
		{"yaml plan with a comment", "# production plan\nversion: 1\n", "the input is not a planrun JSON report (it looks like YAML: a plan? run it with `planrun PLAN`)"},
		{"yaml plan", "version: 1\nname: x\n", "it looks like YAML"},
		{"yaml document marker", "---\nversion: 1\n", "it looks like YAML"},
		{"not an object", "[1, 2]", "the input is not a planrun JSON report (it is not a JSON object)"},
		{"broken JSON", `{"schema_version": 2,`, "the input is not a planrun JSON report: unexpected end of JSON input"},
		{"missing schema_version", `{"plan": {"name": "x"}}`, "it has no schema_version"},
		{"future schema_version", `{"schema_version": 3}`, "schema_version 3 is not supported (this planrun reads schema_version 1 to 2; a newer planrun wrote it: upgrade planrun)"},
		{"zero schema_version", `{"schema_version": 0}`, "schema_version 0 is not supported"},
		{"wrong type", `{"schema_version": 2, "scenarios": {}}`, "invalid planrun JSON report (schema_version 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := results.Decode(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReadFileNamesThePath(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(plan, []byte("# a plan\nversion: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := results.ReadFile(plan)
	want := plan + " is not a planrun JSON report (it looks like YAML: a plan? run it with `planrun " + plan + "`)"
	if err == nil || err.Error() != want {
		t.Errorf("ReadFile error = %v\nwant %s", err, want)
	}
	if _, err := results.ReadFile(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}

func TestDecodeIgnoresNewFields(t *testing.T) {
	run, err := results.Decode(strings.NewReader(`{"schema_version": 2, "plan": {"name": "p"}, "added_later": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if run.Plan.Name != "p" {
		t.Errorf("plan name = %q", run.Plan.Name)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"missing schema_version", `{"plan": {"name": "x"}}`, "no schema_version"},
		{"future schema_version", `{"schema_version": 3}`, "schema_version 3 is not supported"},
		{"zero schema_version", `{"schema_version": 0}`, "schema_version 0 is not supported"},
		{"not JSON", `schema_version: 1`, "not a planrun JSON report"},
		{"wrong type", `{"schema_version": 1, "scenarios": {}}`, "invalid planrun JSON report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := results.Decode(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestDecodeServiceCPU: a report written before planrun measured the
// service's CPU has none (-1, as for a running service), not 0 cores; one
// that has it keeps it, measured or not.
func TestDecodeServiceCPU(t *testing.T) {
	for _, tt := range []struct {
		generator string
		want      float64
	}{
		{`{"cpu": 0.4, "server_cpu": 0.6, "machine_cpu": 1.1, "cores": 2}`, -1},
		{`{"cpu": 0.4, "server_cpu": 0.6, "service_cpu": 0.25, "machine_cpu": 1.1, "cores": 2}`, 0.25},
		{`{"cpu": 0.4, "server_cpu": 0.6, "service_cpu": 0, "machine_cpu": 1.1, "cores": 2}`, 0},
		{`{"cpu": 0.4, "server_cpu": -1, "service_cpu": -1, "machine_cpu": 1.1, "cores": 2}`, -1},
	} {
		run, err := results.Decode(strings.NewReader(`{"schema_version": 2, "scenarios": [{"name": "s", "generator": ` + tt.generator + `}]}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.generator, err)
		}
		g := run.Scenarios[0].Generator
		if g.ServiceCPU != tt.want || g.CPU != 0.4 || g.Cores != 2 {
			t.Errorf("generator %s decoded as %+v, want service_cpu %v and the other figures kept", tt.generator, g, tt.want)
		}
	}
}
