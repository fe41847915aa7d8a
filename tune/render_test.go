package tune_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tune"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixture is a tuning of four tries, one with a prediction, a repeat and a
// hostile scenario name.
func fixture() *results.Tuning {
	ms := time.Millisecond
	return &results.Tuning{
		PlanrunVersion: "test",
		Plan:           results.PlanInfo{Name: "checkout", File: "plans/checkout.yaml"},
		Scenario:       "peak <b>|x",
		TimeScale:      0.5,
		Stated:         results.TuningConfig{Size: 2, MaxOverflow: 0},
		Model:          &results.TuningConfig{Size: 4, MaxOverflow: 0},
		Sizes:          results.TuningRange{From: 1, To: 6},
		Tries: []results.TuningTry{
			{Size: 2, Why: tune.WhyPlan, AcquireP95: 410 * ms, AcquireP99: 450 * ms, Timeouts: 3, TimeoutRate: 0.01, SuccessRate: 0.99,
				Verdict: results.TuneFail, Reason: "acquire wait", PredictedP95: 380 * ms},
			{Size: 4, Why: tune.WhyModel, AcquireP95: 12 * ms, AcquireP99: 18 * ms, SuccessRate: 1, Verdict: results.TunePass, PredictedP95: 9 * ms},
			{Size: 3, Why: tune.WhySize, AcquireP95: 30 * ms, AcquireP99: 60 * ms, SuccessRate: 1, Verdict: results.TuneInconclusive, Reason: "the generator fell behind"},
			{Size: 3, Why: tune.WhySize, Repeat: true, AcquireP95: 25 * ms, AcquireP99: 41 * ms, SuccessRate: 1, Verdict: results.TuneFail, Reason: "acquire wait"},
		},
		Smallest:    &results.TuningConfig{Size: 4},
		SizeBracket: results.TuningBracket{FailedAt: 3, PassedAt: 4},
		Exit:        "found",
		ExitReason:  "Found by bisection over size 1..6 at max_overflow 0: size 4 passes, size 3 fails.",
	}
}

func TestRenderGolden(t *testing.T) {
	for _, format := range []string{"table", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := tune.Render(&b, format, fixture()); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "tuning."+format)
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs from %s (rerun with -update after checking):\n%s", format, golden, b.String())
			}
		})
	}
}

func TestRenderContent(t *testing.T) {
	render := func(format string) string {
		var b bytes.Buffer
		if err := tune.Render(&b, format, fixture()); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	md := render("markdown")
	// The chart: one column per number of connections, the repeat's figure
	// winning at 3, the predictions as bars (0 where none).
	for _, want := range []string{`x-axis "connections (size + max_overflow)" ["2", "3", "4"]`, "bar [380, 0, 9]", "line [410, 25, 12]"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if !strings.Contains(md, "scenario `peak <b>\\|x`") {
		t.Errorf("markdown: want the scenario name in a code span, its pipe escaped:\n%s", md)
	}
	if h := render("html"); strings.Contains(h, "<b>") || !strings.Contains(h, "<svg") {
		t.Errorf("html: want the name escaped and a chart:\n%s", h)
	}
	var back results.Tuning
	if err := json.Unmarshal([]byte(render("json")), &back); err != nil || len(back.Tries) != 4 || back.Smallest.Size != 4 {
		t.Errorf("json does not read back: %v %+v", err, back)
	}
	if err := tune.Render(&bytes.Buffer{}, "junit", fixture()); err == nil {
		t.Error("junit: want an error")
	}
}
