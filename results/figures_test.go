package results_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/figurestest"
	"github.com/planrun/planrun/results"
)

var update = flag.Bool("update", false, "rewrite the generated table of docs/assertions.md")

// TestFiguresWellFormed checks every entry of the table of figures has what
// its readers need.
func TestFiguresWellFormed(t *testing.T) {
	units := []results.Unit{results.UnitDuration, results.UnitCount, results.UnitRate, results.UnitOpsPerSec,
		results.UnitPerSecond, results.UnitNumber, results.UnitCores, results.UnitBool}
	seen := map[string]bool{}
	for _, f := range results.Figures() {
		if seen[f.Name] {
			t.Errorf("%s: listed twice", f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains(units, f.Unit) {
			t.Errorf("%s: unit %q is not one of %v", f.Name, f.Unit, units)
		}
		if f.Value == nil || f.Description == "" || f.Combine == "" || f.JSON == "" {
			t.Errorf("%s: value, description, combine and JSON path are all required", f.Name)
		}
		if perOp := strings.HasPrefix(f.Name, results.OperationPrefix); perOp != (f.OfOperation != nil) {
			t.Errorf("%s: a per-operation figure, and only one, reads an operation (OfOperation)", f.Name)
		}
		if f.Label != "" && f.Compare == results.NotCompared {
			t.Errorf("%s: a compare label on a figure compare does not show", f.Name)
		}
		if f.Compare == results.Judged && f.Better == results.Neither {
			t.Errorf("%s: compare judges it, but it has no better direction", f.Name)
		}
		if g, ok := results.FigureNamed(f.Name); !ok || g.Name != f.Name {
			t.Errorf("FigureNamed(%q) = %q, %v", f.Name, g.Name, ok)
		}
	}
	if f, ok := results.FigureNamed("operations.a.b.op.p95"); !ok || f.Name != results.OperationPrefix+"op.p95" {
		t.Errorf("FigureNamed of an operation with a dot = %q, %v", f.Name, ok)
	}
}

// TestJSONCarriesEveryFigure marshals a scenario whose every number is
// distinct and finds each figure's value at its JSON path.
func TestJSONCarriesEveryFigure(t *testing.T) {
	sc := figurestest.Scenario()
	data, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range results.Figures() {
		vals := lookup(doc, strings.Split(f.JSON, "."))
		if len(vals) == 0 {
			t.Errorf("%s: the JSON report has nothing at %s", f.Name, f.JSON)
			continue
		}
		if f.Unit == results.UnitBool {
			continue // recovered: recovery.status says it
		}
		want := f.Value(sc)
		var nums []float64
		for _, v := range vals {
			if x, ok := v.(float64); ok {
				nums = append(nums, x)
			}
		}
		if strings.HasPrefix(f.JSON, "replicas[]") {
			if len(nums) == 0 || slices.Max(nums) != want {
				t.Errorf("%s: the worst replica's value %g is not the largest at %s (%v)", f.Name, want, f.JSON, nums)
			}
			continue
		}
		if len(nums) == 0 || nums[0] != want {
			t.Errorf("%s: the JSON report holds %v at %s, its value is %g", f.Name, nums, f.JSON, want)
		}
	}
}

// lookup returns the values at path in doc, a key ending in [] standing for
// every element of a list.
func lookup(doc any, path []string) []any {
	if len(path) == 0 {
		return []any{doc}
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	key, each := strings.CutSuffix(path[0], "[]")
	v, ok := m[key]
	if !ok {
		return nil
	}
	if !each {
		return lookup(v, path[1:])
	}
	var out []any
	list, _ := v.([]any)
	for _, e := range list {
		out = append(out, lookup(e, path[1:])...)
	}
	return out
}

const (
	docsBegin = "<!-- figures: generated from results/figures.go; go test ./results -run TestDocsListEveryFigure -update -->"
	docsEnd   = "<!-- figures: end -->"
)

// TestDocsListEveryFigure keeps the table "Every figure" of
// docs/assertions.md in step with the table of figures: name, unit,
// direction, merge and description. With -update it rewrites it.
func TestDocsListEveryFigure(t *testing.T) {
	const path = "../docs/assertions.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	before, rest, ok1 := strings.Cut(doc, docsBegin)
	_, after, ok2 := strings.Cut(rest, docsEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s has no generated table between %q and %q", path, docsBegin, docsEnd)
	}
	want := docsBegin + "\n" + docsTable() + docsEnd
	got := docsBegin + rest[:len(rest)-len(after)]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(before+want+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(gl), len(wl)) {
		g, w := "", ""
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s disagrees with results/figures.go (run go test ./results -run TestDocsListEveryFigure -update):\nline %d of the table\n got: %s\nwant: %s", path, i+1, g, w)
		}
	}
}

// docsTable renders the table of figures as docs/assertions.md shows it:
// consecutive members of one latency that agree in all but their name
// share a row.
func docsTable() string {
	var b strings.Builder
	b.WriteString("| name | unit | better | merged as | meaning |\n|---|---|---|---|---|\n")
	fs := results.Figures()
	for i := 0; i < len(fs); {
		f := fs[i]
		head, _, grouped := strings.Cut(f.Description, ": ")
		names := []string{"`" + f.Name + "`"}
		j := i + 1
		for grouped && j < len(fs) {
			g := fs[j]
			gh, _, ok := strings.Cut(g.Description, ": ")
			if !ok || gh != head || g.Unit != f.Unit || g.Better != f.Better || g.Combine != f.Combine {
				break
			}
			names = append(names, "`"+g.Name+"`")
			j++
		}
		desc := f.Description
		if j > i+1 {
			desc = head
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", strings.Join(names, ", "), f.Unit, f.Better, f.Combine, desc)
		i = j
	}
	return b.String()
}

// TestDocsListEveryLiveSeries keeps docs/metrics.md's table of live series
// in step with the figures' Prometheus series: each has a row of its kind.
func TestDocsListEveryLiveSeries(t *testing.T) {
	data, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range results.LiveSeries() {
		row := regexp.MustCompile("(?m)^\\|[^|\n]*`" + regexp.QuoteMeta(s.Name) + "`[^|\n]*\\| ([a-z]+)")
		m := row.FindStringSubmatch(string(data))
		switch {
		case m == nil:
			t.Errorf("docs/metrics.md has no row for %s", s.Name)
		case m[1] != string(s.Kind):
			t.Errorf("docs/metrics.md calls %s a %s, the table a %s", s.Name, m[1], s.Kind)
		}
	}
}

// TestDocsTypesAgree: a row of docs/assertions.md's own tables that
// documents one figure (`| \`name\` | type | meaning |`) gives it the
// table's unit.
func TestDocsTypesAgree(t *testing.T) {
	data, err := os.ReadFile("../docs/assertions.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(data), docsBegin)
	n := 0
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\| ([^|]+) \\|").FindAllStringSubmatch(doc, -1) {
		f, ok := results.FigureNamed(m[1])
		if !ok {
			continue
		}
		n++
		if got := strings.TrimSpace(m[2]); got != string(f.Unit) {
			t.Errorf("docs/assertions.md gives %s the type %q, the table of figures %q", m[1], got, f.Unit)
		}
	}
	if n < 40 {
		t.Errorf("found only %d rows of figures in docs/assertions.md's tables: has their format changed?", n)
	}
}
