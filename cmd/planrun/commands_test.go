package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/report"
)

func TestValidate(t *testing.T) {
	// validate never connects; ${DATABASE_URL} may as well point nowhere.
	t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres")

	t.Run("all valid", func(t *testing.T) {
		files := []string{plan("approved"), plan("not_approved"), plan("two_scenarios"), plan("abort")}
		r := planrun(t, append([]string{"validate"}, files...)...)
		if r.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", r)
		}
		for _, f := range files {
			if !strings.Contains(r.stdout, f+": ok") {
				t.Errorf("stdout lacks %q:\n%s", f+": ok", r.stdout)
			}
		}
		if !strings.Contains(r.stdout, plan("approved")+": ok (1 scenario, 2 assertions, 1s of load)") {
			t.Errorf("approved summary is not `1 scenario, 2 assertions, 1s of load`:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, plan("two_scenarios")+": ok (2 scenarios, 1 assertion, 2s of load)") {
			t.Errorf("two_scenarios summary is not `2 scenarios, 1 assertion, 2s of load`:\n%s", r.stdout)
		}
	})

	t.Run("one invalid", func(t *testing.T) {
		r := planrun(t, "validate", plan("approved"), plan("invalid"), plan("invalid_other"), plan("two_scenarios"))
		if r.code != ExitUsage {
			t.Fatalf("want exit 2, got %s", r)
		}
		// The valid plans are still reported ok, before and after the invalid ones.
		for _, f := range []string{plan("approved"), plan("two_scenarios")} {
			if !strings.Contains(r.stdout, f+": ok") {
				t.Errorf("stdout lacks %q:\n%s", f+": ok", r.stdout)
			}
		}
		// Every problem of every invalid plan, at its position.
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(plan("invalid")) + `:7:\d+: .*size`),
			regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(plan("invalid")) + `:14:\d+: .*nosuchmix`),
			regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(plan("invalid_other")) + `:8:\d+: .*weight`),
		} {
			if !want.MatchString(r.stderr) {
				t.Errorf("stderr lacks a line matching %s:\n%s", want, r.stderr)
			}
		}
	})

	t.Run("no files", func(t *testing.T) {
		if r := planrun(t, "validate"); r.code != ExitUsage {
			t.Errorf("want exit 2, got %s", r)
		}
	})
}

func TestSchemaCommand(t *testing.T) {
	r := planrun(t, "schema")
	if r.code != ExitApproved {
		t.Fatalf("want exit 0, got %s", r)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("planrun schema does not print valid JSON (%d bytes): %v", len(r.stdout), err)
	}
	props, _ := doc["properties"].(map[string]any)
	for _, key := range []string{"version", "name", "target", "pool", "scenarios", "assertions"} {
		if _, ok := props[key]; !ok {
			t.Errorf("schema has no property %q", key)
		}
	}
	if r := planrun(t, "schema", "extra"); r.code != ExitUsage {
		t.Errorf("schema with an argument: want exit 2, got %s", r)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		r := planrun(t, arg)
		if r.code != ExitApproved || r.stdout != "planrun "+version+"\n" {
			t.Errorf("%s: want exit 0 and %q, got %s", arg, "planrun "+version+"\n", r)
		}
	}
}

func TestCompare(t *testing.T) {
	useDB(t)
	r := planrun(t, plan("approved"), "--format", "json", "--quiet")
	if r.code != ExitApproved {
		t.Fatalf("want exit 0, got %s", r)
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if err := os.WriteFile(base, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}

	// A deliberately worse copy: half the throughput in every scenario.
	worse := decodeRun(t, r)
	for i := range worse.Scenarios {
		worse.Scenarios[i].Throughput /= 2
	}
	var buf bytes.Buffer
	if err := report.JSON(&buf, worse); err != nil {
		t.Fatal(err)
	}
	worsePath := filepath.Join(dir, "worse.json")
	if err := os.WriteFile(worsePath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("against itself", func(t *testing.T) {
		c := planrun(t, "compare", base, base)
		if c.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", c)
		}
		if strings.Contains(c.stdout, compare.MarkRegression) {
			t.Errorf("a run compared with itself shows a regression:\n%s", c.stdout)
		}
	})
	t.Run("against a worse copy", func(t *testing.T) {
		for _, format := range []string{"table", "markdown"} {
			c := planrun(t, "compare", base, worsePath, "--format", format)
			if c.code != ExitNotApproved {
				t.Fatalf("%s: want exit 1, got %s", format, c)
			}
			var regressed bool
			for _, line := range strings.Split(c.stdout, "\n") {
				if strings.Contains(line, "throughput") && strings.Contains(line, compare.MarkRegression) {
					regressed = true
				}
			}
			if !regressed {
				t.Errorf("%s: no throughput row marked %q:\n%s", format, compare.MarkRegression, c.stdout)
			}
		}
	})
	t.Run("html", func(t *testing.T) {
		c := planrun(t, "compare", base, worsePath, "--format", "html")
		if c.code != ExitNotApproved {
			t.Fatalf("want exit 1, got %s", c)
		}
		if !strings.HasPrefix(c.stdout, "<!DOCTYPE html>") || !strings.Contains(c.stdout, compare.HeadingRegressions) ||
			!strings.Contains(c.stdout, "<svg") {
			t.Errorf("not an HTML comparison with its regressions and charts:\n%.400s", c.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		c := planrun(t, "compare", base, worsePath, "--format", "json")
		if c.code != ExitNotApproved {
			t.Fatalf("want exit 1, got %s", c)
		}
		var doc struct {
			Regressions int
			Rows        []struct {
				Metric, Operation string
				Regression        bool
				Detectable        *float64
			}
		}
		if err := json.Unmarshal([]byte(c.stdout), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%.400s", err, c.stdout)
		}
		var regressed bool
		for _, r := range doc.Rows {
			if r.Metric == "throughput" && r.Operation == "" && r.Regression && r.Detectable != nil && *r.Detectable > 0 {
				regressed = true
			}
		}
		if doc.Regressions == 0 || !regressed {
			t.Errorf("no throughput regression with its detectable change in the JSON:\n%.1000s", c.stdout)
		}
	})
	t.Run("several baselines", func(t *testing.T) {
		c := planrun(t, "compare", base, base, base, "--format", "markdown")
		if c.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", c)
		}
		if !strings.Contains(c.stdout, "base (mean of 2)") {
			t.Errorf("the header does not say the base is the mean of 2 baselines:\n%s", c.stdout)
		}
		c = planrun(t, "compare", base, base, worsePath)
		if c.code != ExitNotApproved {
			t.Fatalf("want exit 1 against a worse copy, got %s", c)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for name, args := range map[string][]string{
			"one file":       {"compare", base},
			"missing file":   {"compare", base, filepath.Join(dir, "nope.json")},
			"bad tolerance":  {"compare", base, base, "--tolerance", "lots"},
			"unknown format": {"compare", base, base, "--format", "junit"},
		} {
			if c := planrun(t, args...); c.code != ExitUsage {
				t.Errorf("%s: want exit 2, got %s", name, c)
			}
		}
	})
}

// TestCompareHelp: compare's help lists every flag as the rest of
// planrun's help does, --flag, never the flag package's -flag.
func TestCompareHelp(t *testing.T) {
	c := planrun(t, "compare", "--help")
	for _, want := range []string{"usage: planrun compare", "--format F", "--tolerance T", "--no-color"} {
		if !strings.Contains(c.stderr, want) {
			t.Errorf("compare --help lacks %q:\n%s", want, c.stderr)
		}
	}
	if m := regexp.MustCompile(`(?m)^\s+-[a-z]`).FindString(c.stderr); m != "" {
		t.Errorf("compare --help prints a single-dash flag (%q):\n%s", m, c.stderr)
	}
}

func TestScenarioSelection(t *testing.T) {
	useDB(t)

	t.Run("one scenario", func(t *testing.T) {
		r := planrun(t, plan("two_scenarios"), "--scenario", "beta", "--format", "json", "--quiet")
		if r.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", r)
		}
		run := decodeRun(t, r)
		if len(run.Scenarios) != 1 || run.Scenarios[0].Name != "beta" {
			var names []string
			for _, s := range run.Scenarios {
				names = append(names, s.Name)
			}
			t.Fatalf("want only scenario beta, got %q", names)
		}
		if p := run.Partial; p == nil || p.Of != 2 || len(p.Ran) != 1 || p.Ran[0] != "beta" {
			t.Errorf("partial = %+v, want beta of 2 scenarios", p)
		}
		if run.Verdict.Label != assertions.LabelPartialPass {
			t.Errorf("verdict label %q, want %q: a partial run is never approved for production", run.Verdict.Label, assertions.LabelPartialPass)
		}
		for _, o := range run.Assertions {
			if o.Scenario != "beta" {
				t.Errorf("assertion %q evaluated on scenario %q, which was not selected (status %s)", o.Name, o.Scenario, o.Status)
			}
		}
	})

	t.Run("unknown scenario", func(t *testing.T) {
		r := planrun(t, plan("two_scenarios"), "--scenario", "gamma", "--quiet")
		if r.code != ExitUsage {
			t.Fatalf("want exit 2, got %s", r)
		}
		for _, want := range []string{"gamma", "alpha", "beta"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr does not name %q:\n%s", want, r.stderr)
			}
		}
	})

	t.Run("time scale", func(t *testing.T) {
		r := planrun(t, plan("approved"), "--time-scale", "0.5", "--format", "json", "--quiet")
		if r.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", r)
		}
		run := decodeRun(t, r)
		if run.TimeScale != 0.5 {
			t.Errorf("time_scale = %v, want 0.5", run.TimeScale)
		}
		if len(run.Scenarios) != 1 || run.Scenarios[0].Planned != 500*time.Millisecond {
			t.Fatalf("want one scenario planned 500ms (1s × 0.5), got %+v", run.Scenarios)
		}
		// Not a timing goal: a scenario that ran the unscaled 1 s was not scaled.
		if e := run.Scenarios[0].Elapsed; e < 400*time.Millisecond || e >= time.Second {
			t.Errorf("scenario elapsed %s, want about 500ms", e)
		}
	})

	t.Run("bad time scale", func(t *testing.T) {
		// 0 would be a zero-length run; engine.Compile's message says
		// "must be a positive number", so 0 is rejected like -1.
		for _, v := range []string{"0", "-1", "NaN", "+Inf", "fast"} {
			if r := planrun(t, plan("approved"), "--time-scale", v, "--quiet"); r.code != ExitUsage {
				t.Errorf("--time-scale %s: want exit 2, got %s", v, r)
			}
		}
	})
}
