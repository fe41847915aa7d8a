package results_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// validReport is a version-2 report planrun wrote (v1-failing.json, upgraded
// and re-encoded), as generic JSON to change one value at a time.
func validReport(t testing.TB) map[string]any {
	t.Helper()
	run, err := results.ReadFile(filepath.Join("testdata", "v1-failing.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// set changes the value at path (keys and list indexes) in a decoded JSON
// document.
func set(t *testing.T, doc map[string]any, value any, path ...any) {
	t.Helper()
	var cur any = doc
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				m[k] = value
				return
			}
			cur = m[k]
		case int:
			l := cur.([]any)
			if last {
				l[k] = value
				return
			}
			cur = l[k]
		}
	}
}

// TestDecodeRefusesValuesOutOfRange: a report whose values no run can
// produce is refused with an error naming the field, whatever reads it
// (`planrun report`, `planrun compare`, --baseline).
func TestDecodeRefusesValuesOutOfRange(t *testing.T) {
	tests := []struct {
		name  string
		value any
		path  []any
		want  string
	}{
		{"huge negative elapsed", math.MinInt64, []any{"scenarios", 0, "elapsed"}, "scenarios[0] (normal).elapsed is -9223372036854775808ns: a duration must not be negative"},
		{"negative planned", -1, []any{"scenarios", 0, "planned"}, "scenarios[0] (normal).planned is -1ns"},
		{"negative ops", -5, []any{"scenarios", 0, "ops"}, "scenarios[0] (normal).ops is -5: a count must not be negative"},
		{"more errors than ops", 1e15, []any{"scenarios", 0, "errors"}, "scenarios[0] (normal).errors is 1000000000000000, more than the"},
		{"success rate above 1", 1.5, []any{"scenarios", 0, "success_rate"}, "scenarios[0] (normal).success_rate is 1.5: it must be from 0 to 1"},
		{"success rate below 0", -0.1, []any{"scenarios", 0, "success_rate"}, "success_rate is -0.1"},
		{"negative throughput", -3, []any{"scenarios", 0, "throughput"}, "scenarios[0] (normal).throughput is -3"},
		{"negative percentile", -7, []any{"scenarios", 0, "acquire", "p95"}, "scenarios[0] (normal).acquire.p95 is -7ns"},
		{"percentile above max", int64(math.MaxInt64), []any{"scenarios", 0, "query", "p99"}, "scenarios[0] (normal).query.p99 is 9223372036854775807ns, outside min..max"},
		{"min above max", int64(math.MaxInt64), []any{"scenarios", 0, "op", "min"}, "scenarios[0] (normal).op.min is 9223372036854775807ns, more than max"},
		{"operation share above 1", 2, []any{"scenarios", 0, "operations", 0, "share"}, "scenarios[0] (normal).operations[0] (balance).share is 2"},
		{"negative weight", -1, []any{"scenarios", 0, "operations", 0, "weight"}, "operations[0] (balance).weight is -1"},
		{"negative error category", -1, []any{"scenarios", 0, "errors_by", "query"}, "scenarios[0] (normal).errors_by.query is -1"},
		{"utilization above 1", 3, []any{"scenarios", 0, "utilization", "max"}, "scenarios[0] (normal).utilization.max is 3"},
		{"negative series time", -1e18, []any{"scenarios", 0, "series", 0, "t"}, "scenarios[0] (normal).series[0].t is -1000000000000000000ns"},
		{"negative pool size", -1, []any{"pool", "size"}, "pool.size is -1"},
		{"negative time scale", -2, []any{"time_scale"}, "time_scale is -2"},
		{"negative leaks", -1, []any{"scenarios", 0, "leaks"}, "scenarios[0] (normal).leaks is -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := validReport(t)
			set(t, doc, tt.value, tt.path...)
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = results.Decode(bytes.NewReader(data))
			if err == nil {
				t.Fatal("Decode accepted the report")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "the input is not a report planrun wrote: values out of range: ") {
				t.Errorf("Decode error:\n%v\nwant one containing %q", err, tt.want)
			}
		})
	}
	service := map[string]any{"application_name": "svc", "capacity": 20, "interval": 100000000, "samples": 10,
		"backends": map[string]any{"max": 3, "mean": 2.5, "p95": 3}, "in_use": map[string]any{"max": 2, "mean": 1.5, "p95": 2},
		"utilization": map[string]any{"mean": 0.075, "p95": 0.1, "max": 0.1}, "idle_in_transaction": map[string]any{"max": 5},
		"lock_waits": map[string]any{"max": 0}, "headroom": map[string]any{"min": 90}, "leaks": 1,
		"leak_details":  []any{map[string]any{"pid": 7, "age": 3, "state": "idle in transaction", "query": "SELECT 1", "kind": "held"}},
		"drain_checked": true, "connections": map[string]any{"opened": 2, "closed": 2, "max_open": 2}}
	serviceTests := []struct {
		name  string
		value any
		path  []any
		want  string
	}{
		{"negative service utilization", -0.5, []any{"utilization", "max"}, "scenarios[0] (normal).service.utilization.max is -0.5: it must not be negative"},
		{"negative service leaks", -1, []any{"leaks"}, "scenarios[0] (normal).service.leaks is -1"},
		{"negative idle in transaction", -4, []any{"idle_in_transaction", "max"}, "scenarios[0] (normal).service.idle_in_transaction.max is -4ns"},
		{"more leak details than leaks", 0, []any{"leaks"}, "scenarios[0] (normal).service.leak_details has 1 leaks, more than the 0 it counts"},
	}
	for _, tt := range serviceTests {
		t.Run(tt.name, func(t *testing.T) {
			doc := validReport(t)
			svc, _ := json.Marshal(service)
			var fresh map[string]any
			_ = json.Unmarshal(svc, &fresh)
			set(t, doc, fresh, "scenarios", 0, "service")
			data, _ := json.Marshal(doc)
			if _, err := results.Decode(bytes.NewReader(data)); err != nil {
				t.Fatalf("Decode refused the valid service: %v", err)
			}
			set(t, doc, tt.value, append([]any{"scenarios", 0, "service"}, tt.path...)...)
			data, _ = json.Marshal(doc)
			_, err := results.Decode(bytes.NewReader(data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error:\n%v\nwant one containing %q", err, tt.want)
			}
		})
	}
	t.Run("many problems", func(t *testing.T) {
		doc := validReport(t)
		for _, k := range []string{"planned", "elapsed", "warmup", "ops", "cancelled", "max_users", "leaks"} {
			set(t, doc, -1, "scenarios", 0, k)
		}
		data, _ := json.Marshal(doc)
		_, err := results.Decode(bytes.NewReader(data))
		if err == nil || !strings.HasSuffix(err.Error(), "; and 2 more") {
			t.Errorf("want the first five problems and a count of the rest, got %v", err)
		}
	})
}

// TestReportsPlanrunWroteAreValid: the reports the renderers' golden files
// hold and the version-1 reports pass Validate.
func TestReportsPlanrunWroteAreValid(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "report", "testdata", "*.json.golden"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	files = append(files, more...)
	if len(files) < 4 {
		t.Fatalf("found %d reports", len(files))
	}
	for _, f := range files {
		if _, err := results.ReadFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestReadFileRefusesAnEndlessFile(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := results.ReadFile("/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "larger than 256 MiB") {
		t.Errorf("ReadFile(/dev/zero) = %v, want it refused as too large", err)
	}
}

// FuzzDecode: the report reader never panics, and whatever it accepts
// renders in every format without panicking.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "report", "testdata", "*.json.golden"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"schema_version": 2, "scenarios": [{"name": "s", "elapsed": 9223372036854775807, "ops": 9223372036854775807, "throughput": 1e308, "series_step": 0, "series": [{"t": 9223372036854775807}]}]}`))
	f.Add([]byte(`{"schema_version": 1, "scenarios": [{"recovery": {"recovered": true}, "operations": [{"ops": 9223372036854775807, "errors": 9223372036854775807}]}]}`))
	f.Add([]byte(`{"schema_version": 2, "time_scale": 1e-300, "started_at": "0001-01-01T00:00:00Z", "finished_at": "9999-12-31T23:59:59Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := results.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, format := range report.Formats {
			_ = report.Render(&bytes.Buffer{}, format, run, report.Options{Color: true})
		}
	})
}
