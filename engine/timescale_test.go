package engine_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// TestTimeScaleNoteInResults: a surge rehearsed at --time-scale 0.5 runs
// half as long at the same rate; the run record says the queue was about
// half the plan's, and the terminal and markdown reports show it. A closed
// model gets no note.
func TestTimeScaleNoteInResults(t *testing.T) {
	prog := compile(t, `
version: 1
name: rehearsal
pool: {size: 2, max_overflow: 0, timeout: 10s}
mixes:
  m:
    - {name: a, sql: SELECT 1}
scenarios:
  - name: surge
    mix: m
    stages:
      - {rate: 20/s, duration: 1s}
      - {rate: 100/s, duration: 1s}
  - {name: users, mix: m, users: 1, duration: 1s, think: 50ms}
`, engine.Options{TimeScale: 0.5})
	r := run(t, prog, engine.RunOptions{})
	want := "--time-scale 0.5 shortened every stage to 0.5 × its planned length at the same rate (stage 2: 100/s for 500ms instead of 1s), so a queue built while arrivals outpaced the pool was about 0.5 × the one the plan's arithmetic gives"
	if got := r.Scenarios[0].TimeScaleNote; !strings.HasPrefix(got, want) {
		t.Errorf("surge: note %q, want it to begin %q", got, want)
	}
	if got := r.Scenarios[1].TimeScaleNote; got != "" {
		t.Errorf("closed model: note %q, want none", got)
	}
	var js bytes.Buffer
	if err := report.JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var back results.Run
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Scenarios[0].TimeScaleNote != r.Scenarios[0].TimeScaleNote || !strings.Contains(js.String(), `"time_scale_note"`) {
		t.Errorf("time_scale_note does not survive the JSON report")
	}
	for _, format := range []string{"table", "markdown"} {
		var out bytes.Buffer
		if err := report.Render(&out, format, r, report.Options{}); err != nil {
			t.Fatal(err)
		}
		// The table wraps nothing here (notes are lines under it); both say
		// how much smaller the queue was.
		if !strings.Contains(out.String(), "about 0.5 × the one the plan") {
			t.Errorf("%s report lacks the note:\n%s", format, out.String())
		}
	}
}
