package assertions_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// yamlPlan is a minimal valid plan; the assertions are appended to it. Line
// numbers: the first assertion item is line 15.
const yamlPlan = `version: 1
name: t
mixes:
  app:
    - name: one
      sql: SELECT 1
scenarios:
  - name: normal
    users: 2
    duration: 1s
  - name: exhaustion_recovery
    users: 2
    duration: 1s
assertions:
`

func parse(t *testing.T, assertionsYAML string) *schema.Plan {
	t.Helper()
	p, err := schema.Parse("plan.yaml", []byte(yamlPlan+assertionsYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("schema.Parse: %v", err)
	}
	return p
}

// TestCompileYAMLPositions checks positions end to end through the loader:
// plain, quoted and block-scalar checks.
func TestCompileYAMLPositions(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, pos string
	}{
		{"plain", "  - name: a\n    check: acquire.p95 < 200ms && leeks == 0\n", "plan.yaml:16:35"},
		{"double quoted", "  - name: a\n    check: \"acquire.p95 < 200ms && leeks == 0\"\n", "plan.yaml:16:36"},
		{"literal block", "  - name: a\n    check: |\n      acquire.p95 < 200ms &&\n      query.p95 < 500ms &&\n      leeks == 0\n", "plan.yaml:19:7"},
		{"literal block member", "  - name: a\n    check: |\n      acquire.p95 < 200ms &&\n      query.p59 < 500ms\n", "plan.yaml:18:13"},
		{"bad duration", "  - name: a\n    check: acquire.p95 < duration(\"2x\")\n", "plan.yaml:16:35"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assertions.Compile(parse(t, tc.yaml))
			var es schema.Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("Compile: %v, want one schema error", err)
			}
			if got := es[0].Pos.String(); got != tc.pos {
				t.Errorf("position = %s, want %s: %v", got, tc.pos, es[0])
			}
		})
	}
}

// TestCompileShippedPlans compiles the assertions of the plans in the
// repository, so that a plan and the environment cannot drift apart.
func TestCompileShippedPlans(t *testing.T) {
	files, _ := filepath.Glob("../plans/*.yaml")
	examples, _ := filepath.Glob("../examples/*.yaml")
	files = append(append(files, examples...), "../schema/testdata/production.yaml")
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, "../"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, err := schema.Parse(file, data, func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatalf("schema.Parse: %v", err)
			}
			if _, err := assertions.Compile(p); err != nil {
				t.Errorf("Compile: %v", err)
			}
		})
	}
}

// TestDocsListEveryName keeps docs/assertions.md in step with the
// environment: a scenario's figure is documented by the table of figures
// (results/figures.go: TestEveryNameIsAFigure here, and the results test
// that keeps the docs' "Every figure" table in step with it); every other
// name (the run's context; baseline.* is documented as a pattern) is
// written there in backticks.
func TestDocsListEveryName(t *testing.T) {
	data, err := os.ReadFile("../docs/assertions.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, name := range assertions.Names() {
		if strings.HasPrefix(name, "baseline.") {
			continue
		}
		if _, figure := results.FigureNamed(name); figure {
			continue
		}
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/assertions.md does not document `%s`", name)
		}
	}
}
