package svgchart_test

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/svgchart"
)

// wellFormed fails unless svg is well-formed XML, and returns its texts.
func wellFormed(t *testing.T, svg string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var texts []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return texts
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if cd, ok := tok.(xml.CharData); ok {
			texts = append(texts, string(cd))
		}
	}
}

func TestChartEscapesText(t *testing.T) {
	hostile := `"><script>alert(1)</script>&` + "\x1b"
	c := svgchart.Chart{
		Title:   "t" + hostile,
		X:       svgchart.Axis{Label: "x" + hostile},
		Y:       svgchart.Axis{Label: "y" + hostile},
		Series:  []svgchart.Series{{Name: "s" + hostile, Points: []svgchart.Point{{X: 0, Y: 1}, {X: 1, Y: 2}}, Color: `red"/><script>`}},
		Markers: []svgchart.Marker{{From: 0.5, To: 0.5, Label: "m" + hostile}},
		Levels:  []svgchart.Level{{Y: 1.5, Label: "l" + hostile}},
	}
	svg := c.SVG()
	if strings.Contains(svg, "<script") || strings.Contains(svg, "\x1b") {
		t.Errorf("markup or a control character got through:\n%s", svg)
	}
	texts := strings.Join(wellFormed(t, svg), "|")
	for _, want := range []string{"t\"><script>alert(1)</script>&\\x1b", "s\"><script>", "m\"><script>", "l\"><script>", "x\"><script>", "y\"><script>"} {
		if !strings.Contains(texts, want) {
			t.Errorf("the chart does not show %q as text; texts: %q", want, texts)
		}
	}
}

func TestLinearTicksStartAtZero(t *testing.T) {
	c := svgchart.Chart{Series: []svgchart.Series{{Name: "a", Points: []svgchart.Point{{X: 3, Y: -0.0}, {X: 47, Y: 93}}}}}
	texts := strings.Join(wellFormed(t, c.SVG()), "|")
	for _, want := range []string{"|0|", "|20|", "|100|", "|40|"} {
		if !strings.Contains(texts, want) {
			t.Errorf("no tick %q in %q", want, texts)
		}
	}
	if strings.Contains(texts, "-0") {
		t.Errorf("a negative zero tick: %q", texts)
	}
}

func TestTimeSteps(t *testing.T) {
	c := svgchart.Chart{
		X:      svgchart.Axis{Steps: []float64{1, 2, 5, 10, 15, 30, 60, 120}},
		Series: []svgchart.Series{{Name: "a", Points: []svgchart.Point{{X: 0, Y: 1}, {X: 330, Y: 2}}}},
	}
	texts := strings.Join(wellFormed(t, c.SVG()), "|")
	if !strings.Contains(texts, "|60|") || !strings.Contains(texts, "|300|") || strings.Contains(texts, "|50|") {
		t.Errorf("want ticks every 60 with Steps, got %q", texts)
	}
}

func TestPercentilePlot(t *testing.T) {
	pts := svgchart.PercentileCurve(func(q float64) float64 { return 1000 * q })
	if first, last := pts[0], pts[len(pts)-1]; first.X != 1 || first.Y != 0 || last.X < 99999 || last.X > 100001 {
		t.Errorf("curve runs from %+v to %+v, want p0 (x 1) to p99.999 (x 1e5)", first, last)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].X <= pts[i-1].X {
			t.Fatalf("x not increasing at %d: %+v", i, pts[i-1:i+1])
		}
	}
	c := svgchart.Chart{X: svgchart.PercentileAxis(), Series: []svgchart.Series{{Name: "op", Points: pts}}}
	texts := strings.Join(wellFormed(t, c.SVG()), "|")
	for _, want := range []string{"|p0|", "|p90|", "|p99|", "|p99.9|", "|p99.99|", "|p99.999|"} {
		if !strings.Contains(texts, want) {
			t.Errorf("no tick %q on the percentile axis: %q", want, texts)
		}
	}
}

func TestEmptyChart(t *testing.T) {
	wellFormed(t, svgchart.Chart{Title: "nothing"}.SVG())
	wellFormed(t, svgchart.Chart{Series: []svgchart.Series{{Name: "one", Points: []svgchart.Point{{X: 1, Y: 1}}}}}.SVG())
}
