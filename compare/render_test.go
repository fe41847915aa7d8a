package compare_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/internal/markdown/markdowntest"
	"github.com/planrun/planrun/results"
)

// hostile is what the attack put in names: code-span and HTML breakers,
// ANSI colour, NUL, BEL, BS, CR, DEL and a C1 CSI.
const hostile = "``</details><h1>x</h1>\x1b[31m\x00\a\b\r\x7f\u009b"

// TestHostileNames compares runs whose plan, scenario and server version
// carry hostile text: the markdown holds no HTML and shows the names as
// text, and neither output holds a control character (the colour table
// aside, whose own codes are the only ones).
// ownFold is the only HTML the markdown writes itself: the fold of the
// table of every figure compared.
var ownFold = regexp.MustCompile(`^(<details><summary>[0-9,]+ figures? compared</summary>|</details>)\n?$`)

func TestHostileNames(t *testing.T) {
	name := "peak" + hostile
	base := run(scenario(name, nil), scenario("gone"+hostile, nil))
	new := run(scenario(name, func(s *results.Scenario) {
		s.Acquire = lat(1*ms, 300*ms, 400*ms, 900*ms) // a regression, named in the summary
	}), scenario("new"+hostile, nil))
	new.Plan.Name += hostile
	new.Target.ServerVersion += hostile
	c := compare.Runs(base, new, compare.Options{})
	if c.Regressions == 0 || len(c.Changes) == 0 || len(c.OnlyInNew) == 0 {
		t.Fatalf("the fixture shows no regression, change or new scenario: %+v", c)
	}

	var md bytes.Buffer
	if err := c.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	doc, err := markdowntest.Parse(md.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range doc.HTML {
		if !ownFold.MatchString(h) {
			t.Errorf("raw HTML in the markdown: %q\n%s", h, md.String())
		}
	}
	shown := "peak``" + `</details><h1>x</h1>\x1b[31m\x00\x07\x08\x0d\x7f\u009b`
	// Markdown folds the CR, a line break, into a space.
	if oneLine := markdown.OneLine(name); strings.Count(doc.Visible, oneLine) < 2 { // the summary and the table
		t.Errorf("the markdown does not show %q as text:\n%s", oneLine, doc.Visible)
	}
	noControl(t, "markdown", md.String(), false)

	for _, color := range []bool{false, true} {
		var tb bytes.Buffer
		if err := c.Table(&tb, color); err != nil {
			t.Fatal(err)
		}
		noControl(t, "table", tb.String(), color)
		if !strings.Contains(tb.String(), shown) {
			t.Errorf("the table does not show %q:\n%s", shown, tb.String())
		}
	}
}

// noControl fails on a control character other than newline in out; with
// color, the table's own colour codes are allowed.
func noControl(t *testing.T, what, out string, color bool) {
	t.Helper()
	if color {
		out = strings.NewReplacer("\x1b[31m", "", "\x1b[32m", "", "\x1b[0m", "").Replace(out)
	}
	for i, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			t.Errorf("%s holds control character %q at byte %d: …%q…", what, r, i, out[max(0, i-40):min(len(out), i+10)])
			return
		}
	}
}
