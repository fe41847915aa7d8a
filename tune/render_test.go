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

// TestConfirmationLine: the summary says whether the runs confirmed the
// model's recommendation (within ±1 connection), with the evidence.
func TestConfirmationLine(t *testing.T) {
	for _, tt := range []struct {
		name     string
		edit     func(*results.Tuning)
		want     string
		confirms bool
	}{
		{"same", func(*results.Tuning) {}, "The model's recommendation (size 4 + 0) confirmed by runs: size 3 + 0 fails, size 4 + 0 passes.", true},
		{"one more", func(r *results.Tuning) { r.Model = &results.TuningConfig{Size: 3} },
			"The model's recommendation (size 3 + 0) confirmed by runs: size 3 + 0 fails, size 4 + 0 passes.", true},
		{"two fewer", func(r *results.Tuning) { r.Model = &results.TuningConfig{Size: 6} },
			"The model's recommendation (size 6 + 0) not confirmed by runs: size 3 + 0 fails, size 4 + 0 passes (2 connections fewer than recommended).", false},
		{"none passed", func(r *results.Tuning) { r.Smallest, r.Exit = nil, "none_passes" },
			"The model's recommendation (size 4 + 0) was not confirmed: no configuration tried passed.", false},
		{"stopped early", func(r *results.Tuning) { r.Exit = "inconclusive" }, "was neither confirmed nor refuted", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture()
			tt.edit(r)
			var b bytes.Buffer
			tune.TableSummary(&b, r)
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("summary lacks %q:\n%s", tt.want, b.String())
			}
			if r.Smallest != nil {
				got := tune.Confirms(tune.Config{Size: r.Model.Size, MaxOverflow: r.Model.MaxOverflow}, tune.Config{Size: r.Smallest.Size, MaxOverflow: r.Smallest.MaxOverflow})
				if got != tt.confirms && r.Exit == "found" {
					t.Errorf("Confirms = %v, want %v", got, tt.confirms)
				}
			}
		})
	}
	r := fixture()
	r.Model = nil
	var b bytes.Buffer
	tune.TableSummary(&b, r)
	if strings.Contains(b.String(), "recommendation (") {
		t.Errorf("without a model: no confirmation line:\n%s", b.String())
	}
}
