package results_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// encodeHist encodes a histogram of the given geometry holding one value.
func encodeHist(t testing.TB, lowest, highest int64, sigfigs int) string {
	t.Helper()
	h := hdrhistogram.New(lowest, highest, sigfigs)
	if err := h.RecordValue(2_000_000); err != nil {
		t.Fatal(err)
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHistogramGeometryBytesIsTheDecodedSize: Bytes is the size of the
// counts array hdrhistogram-go allocates for the geometry.
func TestHistogramGeometryBytesIsTheDecodedSize(t *testing.T) {
	for _, g := range []results.HistogramGeometry{
		{1000, int64(time.Hour), 3}, {1000, int64(time.Hour), 2}, {1, int64(time.Hour), 3},
		{1, 2, 1}, {1000, 3000, 3}, {7, 1 << 40, 2}, {1, math.MaxInt64, 5},
	} {
		h := hdrhistogram.New(g.Lowest, g.Highest, g.SigFigs)
		if want := int64(len(h.Export().Counts)) * 8; g.Bytes() != want {
			t.Errorf("%+v: Bytes() = %d, want %d", g, g.Bytes(), want)
		}
	}
}

func TestCheckHistogram(t *testing.T) {
	for name, tc := range map[string]struct {
		encoded string
		want    string // "" for accepted
	}{
		"the engine's":            {encodeHist(t, 1000, int64(time.Hour), 3), ""},
		"per operation":           {encodeHist(t, 1000, int64(time.Hour), 2), ""},
		"1 ns resolution":         {encodeHist(t, 1, int64(time.Hour), 3), ""},
		"1 to MaxInt64, 5 digits": {encodeHist(t, 1, math.MaxInt64, 5), "it has 5 significant figures; planrun writes 1 to 3"},
		"4 digits":                {encodeHist(t, 1000, int64(time.Hour), 4), "it has 4 significant figures"},
		"two hours":               {encodeHist(t, 1000, int64(2*time.Hour), 3), "its highest trackable value is 7200000000000"},
		"lowest 2 µs":             {encodeHist(t, 2000, int64(time.Hour), 3), "its lowest trackable value is 2000"},
		"not base64":              {"!!!!", "it is not a base64 V2 HdrHistogram"},
		"wrong cookie":            {"AAAAAAAAAAA=", "wrong cookie"},
		"corrupt zlib":            {"HISTFAAAAAh4nAAAAAAAAA==", "its header cannot be read"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := results.CheckHistogram(tc.encoded)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// reportWith is a minimal report holding fields.
func reportWith(fields string) []byte {
	return []byte(fmt.Sprintf(`{"schema_version": %d, %s}`, results.SchemaVersion, fields))
}

func items(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

// TestDecodeBoundsListsBeforeDecoding: a report with more items than a
// limit is refused before it is decoded (a few hundred KB of `{}` would
// otherwise take a GB decoded), naming the field; at the limit it reads.
func TestDecodeBoundsListsBeforeDecoding(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  []byte
		want string // "" for accepted
	}{
		"1,000 scenarios":   {reportWith(`"scenarios": [` + items(`{}`, 1000) + `]`), ""},
		"1,001 scenarios":   {reportWith(`"scenarios": [` + items(`{}`, 1001) + `]`), "scenarios has more than 1,000 scenarios"},
		"folded key":        {reportWith(`"SCENARİOS": [], "ſcenarios": [` + items(`{}`, 1001) + `]`), "ſcenarios has more than 1,000 scenarios"},
		"escaped key":       {reportWith(`"\u0073cenarios": [` + items(`{}`, 1001) + `]`), "scenarios has more than 1,000 scenarios"},
		"600 points":        {reportWith(`"scenarios": [{"series_step": 1000000000, "elapsed": 600000000000, "series": [` + items(`{"t": 1}`, 600) + `]}]`), ""},
		"601 points":        {reportWith(`"scenarios": [{"series": [` + items(`{}`, 601) + `]}]`), "scenarios[0].series has more than 600 points"},
		"operations in all": {reportWith(`"scenarios": [` + items(`{"operations": [`+items(`{}`, 101)+`]}`, 1000) + `]`), "the report has more than 100,000 operations there in all"},
		"20 scenarios of 600 full points": {reportWith(`"scenarios": [` + items(`{"series_step": 1000000000, "elapsed": 600000000000, "series": [`+
			items(`{"t": 1, "users": 1, "ops": 1, "errors": 0, "acquire_p50": 1, "acquire_p95": 1, "acquire_p99": 1, "query_p95": 1, "op_p95": 1, "in_use": 1, "idle": 1, "total": 1, "waiting": 1, "in_flight": 1, "warmup": false}`, 600)+`]}`, 20) + `]`), ""},
		"struct keys are not items": {reportWith(`"target": {` + strings.TrimSuffix(strings.Repeat(`"unknown": 1,`, 200_000), ",") + `}`), ""},
		"1,001 faults":              {reportWith(`"scenarios": [{"faults": [` + items(`{}`, 1001) + `]}]`), "scenarios[0].faults has more than 1,000 faults"},
		"an unknown list":           {reportWith(`"future": [` + items(`0`, 100_001) + `]`), "future has more than 100,000 items"},
		"a map":                     {reportWith(`"scenarios": [{"errors_by": {` + strings.TrimSuffix(strings.Repeat(`"k": 1,`, 100_001), ",") + `}}]`), "scenarios[0].errors_by has more than 100,000 keys"},
		"strings with brackets":     {reportWith(`"status_reason": "[[[[{{{{\"]]]", "scenarios": []`), ""},
		"deep nesting":              {reportWith(`"x": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100)), "nests more than 64 levels deep"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := results.Decode(bytes.NewReader(tc.doc))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestDecodeRefusesWhatSizesALoop: the values that size a reader's
// allocation or loop are refused beyond what planrun writes, naming the
// field.
func TestDecodeRefusesWhatSizesALoop(t *testing.T) {
	for name, tc := range map[string]struct {
		value any
		path  []any
		want  string
	}{
		"segment count 2^62": {map[string]any{"index": 1, "count": int64(1) << 62}, []any{"segment"},
			"segment.count is 4611686018427387904: a plan is split into 1 to 1000 segments"},
		"segment index 0":  {map[string]any{"index": 0, "count": 2}, []any{"segment"}, "segment.index is 0"},
		"segment replica":  {map[string]any{"index": 1, "count": 2, "replicas": []int{0}}, []any{"segment"}, "segment.replicas[0] is 0"},
		"merged segments":  {map[string]any{"segments": 1 << 40}, []any{"merged"}, "merged.segments is 1099511627776"},
		"series step 1ns":  {1, []any{"scenarios", 0, "series_step"}, "series_step is 1ns: a series step is at least 1s"},
		"series step 2^62": {int64(1) << 62, []any{"scenarios", 0, "series_step"}, "no run lasts longer than 2000h0m0s"},
		"point at 2^62":    {int64(1) << 62, []any{"scenarios", 0, "series", 0, "t"}, "series[0].t is 4611686018427387904ns: a point lies within its scenario"},
		"elapsed 2^62":     {int64(1) << 62, []any{"scenarios", 0, "elapsed"}, "elapsed is 4611686018427387904ns: no run lasts longer than 2000h0m0s"},
		"replica index":    {[]map[string]any{{"index": 1 << 40}}, []any{"scenarios", 0, "replicas"}, "replicas[0].index is 1099511627776"},
		"partial of":       {map[string]any{"ran": []string{"a"}, "of": 1 << 40}, []any{"partial"}, "partial.of is 1099511627776"},
		"wide histogram": {map[string]any{"count": 1, "min": 2000000, "mean": 2000000, "p50": 2000000, "p90": 2000000, "p95": 2000000, "p99": 2000000, "max": 2000000,
			"histogram": encodeHist(t, 1, math.MaxInt64, 5)}, []any{"scenarios", 0, "acquire"},
			"scenarios[0] (normal).acquire.histogram: it has 5 significant figures"},
	} {
		t.Run(name, func(t *testing.T) {
			doc := validReport(t)
			set(t, doc, tc.value, tc.path...)
			data, _ := json.Marshal(doc)
			_, err := results.Decode(bytes.NewReader(data))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "the input is not a report planrun wrote: ") {
				t.Fatalf("error %v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

// TestBudgetBoundsACommand: one report within MaxHistogramBytes reads;
// reports read with one Budget are refused once their histograms together
// pass MaxCommandHistogramBytes, naming the file.
func TestBudgetBoundsACommand(t *testing.T) {
	doc := validReport(t)
	hist := encodeHist(t, 1, int64(time.Hour), 3) // 264 KiB decoded
	lat := map[string]any{"count": 1, "min": 2000000, "mean": 2000000, "p50": 2000000, "p90": 2000000, "p95": 2000000, "p99": 2000000, "max": 2000000, "histogram": hist}
	var ops []any
	for i := range 70 {
		ops = append(ops, map[string]any{"name": fmt.Sprint("op", i), "weight": 1, "share": 0, "ops": 1, "errors": 0, "success_rate": 1,
			"acquire": lat, "query": lat, "op": lat})
	}
	set(t, doc, ops, "scenarios", 0, "operations")
	data, _ := json.Marshal(doc)
	dir := t.TempDir()
	var paths []string
	for i := range 5 {
		p := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	b := results.NewBudget()
	for i, p := range paths {
		_, err := b.ReadFile(p)
		if i < 4 && err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		if i == 4 && (err == nil || !strings.Contains(err.Error(), "r4.json: its latency histograms would take") ||
			!strings.Contains(err.Error(), "more than the 256 MiB one command decodes")) {
			t.Fatalf("fifth report: %v, want it refused by the command's budget", err)
		}
	}
	// Each alone reads with ReadFile (a budget of its own).
	if _, err := results.ReadFile(paths[4]); err != nil {
		t.Fatal(err)
	}
}

// TestLimitsAgreeWithWhatPlanrunWrites: the reader's limits are the
// planner's and the engine's (results imports neither).
func TestLimitsAgreeWithWhatPlanrunWrites(t *testing.T) {
	if results.MaxSegments != engine.MaxSegments {
		t.Errorf("results.MaxSegments %d, engine.MaxSegments %d", results.MaxSegments, engine.MaxSegments)
	}
	if results.MaxScenarios != schema.MaxScenarios {
		t.Errorf("results.MaxScenarios %d, schema's %d", results.MaxScenarios, schema.MaxScenarios)
	}
	if results.MaxReplicas != schema.MaxReplicas || results.MaxFaults != schema.MaxFaults {
		t.Errorf("results.MaxReplicas %d MaxFaults %d, schema's %d and %d", results.MaxReplicas, results.MaxFaults, schema.MaxReplicas, schema.MaxFaults)
	}
	if results.MaxElapsed != 2*schema.MaxLoad {
		t.Errorf("results.MaxElapsed %v, want twice schema.MaxLoad (%v)", results.MaxElapsed, schema.MaxLoad)
	}
}
