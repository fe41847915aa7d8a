package report_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/internal/markdown/markdowntest"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// hostile is what the attack put in plan, scenario and operation names and
// in server messages: code-span and HTML breakers, ANSI colour and an OSC
// title sequence, NUL, BEL, BS, CR, DEL, a C1 CSI and invalid UTF-8.
const hostile = "``</details><h1>x</h1>\x1b[31m\x1b[5m\x1b]0;pwn\a\x00\b\r\x7f\u009b\xff|*em* [l](http://x)"

// withHostileText is run with hostile appended to every string and every string
// map key (an error category stays the same key in every map), so that a
// field added later is covered too. Encoded data is left alone.
func withHostileText(run *results.Run) *results.Run {
	out := appendHostile(reflect.ValueOf(*run)).Interface().(results.Run)
	return &out
}

func appendHostile(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(v.String() + hostile)
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Name != "Histogram" && f.Name != "SHA256" {
				out.Field(i).Set(appendHostile(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(appendHostile(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(appendHostile(it.Key()), appendHostile(it.Value()))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(appendHostile(v.Elem()))
		return out
	}
	return v
}

// painted matches the colour codes the table itself prints.
var painted = regexp.MustCompile(`\x1b\[(0|1|2|31|32|33)m`)

// controlAt returns the index of the first control character other than
// newline in s (C0, DEL, C1 or a byte that is not UTF-8), or -1.
func controlAt(s string) int {
	for i, r := range s {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || r == '\uFFFD' && strings.HasPrefix(s[i:], "\xff") {
			return i
		}
	}
	return -1
}

func noControl(t *testing.T, what, out string) {
	t.Helper()
	if i := controlAt(out); i >= 0 {
		t.Errorf("%s holds control character %q at byte %d: …%q…", what, out[i:i+1], i, out[max(0, i-60):min(len(out), i+20)])
	}
}

// allowedHTML is the only HTML the markdown report writes itself.
var allowedHTML = regexp.MustCompile(`^(<details><summary>[^<>]*</summary>|</details>)\n?$`)

// parseMarkdown parses md as GitHub would and fails the test on raw HTML
// other than planrun's own <details> folds.
func parseMarkdown(t *testing.T, md string) markdowntest.Doc {
	t.Helper()
	doc, err := markdowntest.Parse(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range doc.HTML {
		if !allowedHTML.MatchString(h) {
			t.Errorf("raw HTML: %q", h)
		}
	}
	return doc
}

// checkMarkdown parses md as GitHub would: no HTML but the report's own
// <details> blocks, no control character, and the hostile text shown as
// text or code.
func checkMarkdown(t *testing.T, what, md string) {
	t.Helper()
	noControl(t, what, md)
	doc, err := markdowntest.Parse(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range doc.HTML {
		if !allowedHTML.MatchString(h) {
			t.Errorf("%s: raw HTML from the run: %q", what, h)
		}
	}
	shown := markdown.OneLine("``</details><h1>x</h1>\x1b[31m")
	if !strings.Contains(doc.Visible, shown) {
		t.Errorf("%s: the reader does not see %q", what, shown)
	}
	inCode := false
	for _, c := range doc.Code {
		inCode = inCode || strings.Contains(c, shown)
	}
	if !inCode {
		t.Errorf("%s: no code span shows %q: %q", what, shown, doc.Code)
	}
}

// TestHostileText renders runs with hostile text in every field through
// every human format and the job summary.
func TestHostileText(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := withHostileText(c.run())
			for _, color := range []bool{false, true} {
				out := string(render(t, "table", run, report.Options{Color: color}))
				if color {
					out = painted.ReplaceAllString(out, "")
				}
				noControl(t, "table", out)
				if !strings.Contains(out, `</details><h1>x</h1>\x1b[31m\x1b[5m\x1b]0;pwn\x07\x00\x08\x0d\x7f\u009b`+"\uFFFD") {
					t.Errorf("the table does not show the escaped name:\n%s", out)
				}
			}

			checkMarkdown(t, "markdown", string(render(t, "markdown", run, report.Options{})))

			summary := filepath.Join(t.TempDir(), "summary.md")
			t.Setenv("GITHUB_STEP_SUMMARY", summary)
			if err := report.AppendGitHubSummary(run); err != nil {
				t.Fatal(err)
			}
			sum, err := os.ReadFile(summary)
			if err != nil {
				t.Fatal(err)
			}
			checkMarkdown(t, "step summary", string(sum))

			junit := render(t, "junit", run, report.Options{})
			noControl(t, "JUnit", string(junit))
			var doc junitDoc
			if err := xml.Unmarshal(junit, &doc); err != nil {
				t.Fatalf("JUnit is not well-formed XML: %v\n%s", err, junit)
			}
			if !strings.Contains(doc.Name, `</details><h1>x</h1>\x1b[31m`) {
				t.Errorf("testsuites name %q does not show the escaped plan name", doc.Name)
			}
		})
	}
}
