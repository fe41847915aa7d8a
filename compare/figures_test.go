package compare

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/figurestest"
	"github.com/planrun/planrun/results"
)

// worseWhen is the direction in which a rule counts a change as a
// regression, as docs/compare.md writes it.
func worseWhen(r rule) string {
	switch r {
	case ruleLatency, ruleCount, ruleRecovery:
		return "higher"
	case ruleThroughput, ruleErrorRate:
		return "lower"
	}
	return "—"
}

// TestCompareKnowsEveryFigure walks the table of figures: every figure
// compare shows has a rule, and the rule's worse direction is the opposite
// of the figure's better one; the rows a comparison prints are exactly the
// figures the table marks as compared (an operation's throughput aside,
// judged as the scenario's).
func TestCompareKnowsEveryFigure(t *testing.T) {
	want := map[string]bool{}
	for _, f := range results.Figures() {
		r, _, ok := ruleOf(f)
		if f.Compare == results.NotCompared {
			if ok {
				t.Errorf("%s: not compared, yet compare has a rule for it", f.Name)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: compared (%d), but compare has no rule for a %s where %s is better", f.Name, f.Compare, f.Unit, f.Better)
			continue
		}
		switch {
		case f.Compare == results.Shown && r != ruleInfo:
			t.Errorf("%s: shown only, judged by rule %d", f.Name, r)
		case f.Compare == results.Judged && f.Better == results.LowerIsBetter && worseWhen(r) != "higher",
			f.Compare == results.Judged && f.Better == results.HigherIsBetter && worseWhen(r) != "lower":
			t.Errorf("%s: %s is better, but compare counts it worse when %s", f.Name, f.Better, worseWhen(r))
		}
		label := f.Label
		if label == "" {
			label = f.Name
		}
		want[strings.Replace(label, results.OperationPrefix, figurestest.Operation+" · ", 1)] = true
	}
	want[figurestest.Operation+" · throughput"] = true

	sc := figurestest.Scenario()
	run := &results.Run{Scenarios: []results.Scenario{*sc}}
	got := map[string]bool{}
	for _, r := range Runs(run, run, Options{}).Rows {
		if r.Operation == "" || r.Operation == figurestest.Operation {
			got[r.Name()] = true
		}
	}
	for n := range want {
		if !got[n] {
			t.Errorf("the table marks %s as compared, compare prints no row for it", n)
		}
	}
	for n := range got {
		if !want[n] {
			t.Errorf("compare prints %s, which the table does not mark as compared", n)
		}
	}
}

// TestDocsCompareAgree keeps docs/compare.md's table of what is compared in
// step with the table of figures: every compared figure has its row, with
// compare's unit and the direction in which it is worse.
func TestDocsCompareAgree(t *testing.T) {
	data, err := os.ReadFile("../docs/compare.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| ([^|]*) \\| ([^|]*) \\| ([^|]*) \\|").FindAllStringSubmatch(string(data), -1)
	for _, f := range results.Figures() {
		r, unit, ok := ruleOf(f)
		if !ok {
			continue
		}
		if f.Name == "recovery" {
			r = ruleRecovery
		}
		label := f.Label
		if label == "" {
			label = f.Name
		}
		label = strings.Replace(label, results.OperationPrefix, "NAME · ", 1)
		i := slices.IndexFunc(rows, func(row []string) bool { return strings.Contains(row[1], "`"+label+"`") })
		if i < 0 {
			t.Errorf("docs/compare.md has no row for %s", label)
			continue
		}
		if got := rows[i][2]; got != unit {
			t.Errorf("docs/compare.md gives %s the unit %q, compare %q", label, got, unit)
		}
		if got := rows[i][3]; got != worseWhen(r) {
			t.Errorf("docs/compare.md says %s is worse when %q, the table of figures %q", label, got, worseWhen(r))
		}
	}
}
