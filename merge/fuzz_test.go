package merge_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/planrun/planrun/merge"
	"github.com/planrun/planrun/results"
)

// FuzzMerge: merging any two reports the reader accepts never panics, and
// a merged record always passes the reader's own validation: what merge
// writes, report reads. To reach the merge itself rather than its first
// refusal, the second report is made a sibling of the first (same plan,
// versions, time scale and scenario names; segments 1/2 and 2/2).
func FuzzMerge(f *testing.F) {
	in, _, _ := threeSegments()
	enc := func(r *results.Run) []byte {
		data, err := json.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		return data
	}
	f.Add(enc(in[0].Run), enc(in[1].Run))
	f.Add(enc(in[1].Run), enc(in[2].Run))
	// The forged corpus, first two files of each case.
	dirs, _ := filepath.Glob(filepath.Join(forgedDir, "*"))
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) < 2 {
			continue
		}
		a, err1 := os.ReadFile(files[0])
		b, err2 := os.ReadFile(files[1])
		if err1 == nil && err2 == nil {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ra, err := results.Decode(bytes.NewReader(a))
		if err != nil {
			return
		}
		rb, err := results.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		rb.SchemaVersion, rb.PlanrunVersion, rb.Plan, rb.TimeScale = ra.SchemaVersion, ra.PlanrunVersion, ra.Plan, ra.TimeScale
		ra.Segment = &results.Segment{Index: 1, Count: 2}
		rb.Segment = &results.Segment{Index: 2, Count: 2}
		if len(ra.Scenarios) == len(rb.Scenarios) {
			for i := range rb.Scenarios {
				rb.Scenarios[i].Name = ra.Scenarios[i].Name
			}
		}
		run, err := merge.Runs([]merge.Input{{File: "a.json", Run: ra}, {File: "b.json", Run: rb}})
		if err != nil {
			return
		}
		data, err := json.Marshal(run)
		if err != nil {
			t.Fatalf("the merged record does not encode: %v", err)
		}
		if _, err := results.Decode(bytes.NewReader(data)); err != nil {
			t.Fatalf("merge wrote a record the reader refuses: %v", err)
		}
	})
}
