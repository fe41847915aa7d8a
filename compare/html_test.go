package compare_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/net/html"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/results"
)

// spread is a latency with a histogram: 1000 values rising evenly from
// low to high, the last ten at tail.
func spread(low, high, tail time.Duration) results.Latency {
	h := hdrhistogram.New(1000, int64(time.Hour), 3)
	for i := range 990 {
		_ = h.RecordValue(int64(low + (high-low)*time.Duration(i)/990))
	}
	for range 10 {
		_ = h.RecordValue(int64(tail))
	}
	return hdr.Summarize(h)
}

// htmlFixture is a base and a new run whose latencies carry histograms;
// in the new run, the "peak" scenario's acquire and op are slower.
func htmlFixture() (base, new *results.Run) {
	fast := func(s *results.Scenario) {
		s.Acquire = spread(10*time.Microsecond, 2*ms, 5*ms)
		s.Op = spread(2*ms, 25*ms, 80*ms)
	}
	slow := func(s *results.Scenario) {
		s.Acquire = spread(10*time.Microsecond, 40*ms, 300*ms)
		s.Op = spread(2*ms, 60*ms, 400*ms)
	}
	return run(scenario("normal", fast), scenario("peak", fast)), run(scenario("normal", fast), scenario("peak", slow))
}

func renderHTML(t *testing.T, c *compare.Comparison) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.HTML(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func walkHTML(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkHTML(c, f)
	}
}

// TestHTML: the page parses, fetches nothing, lists the regressions before
// the charts, and overlays the op and acquire curves of both runs per
// scenario.
func TestHTML(t *testing.T) {
	base, new := htmlFixture()
	c := compare.Runs(base, new, compare.Options{})
	if c.Regressions == 0 {
		t.Fatal("the fixture shows no regression")
	}
	out := renderHTML(t, c)
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var sections []*html.Node
	walkHTML(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "script" || n.Data == "link" || n.Data == "img" {
			t.Errorf("a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#") {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
			if strings.Contains(strings.ToLower(a.Val), "url(") {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
		}
		if n.Data == "style" && n.FirstChild != nil && strings.Contains(n.FirstChild.Data, "url(") {
			t.Error("a <style> with url()")
		}
		if n.Data == "section" {
			sections = append(sections, n)
		}
	})
	if len(sections) != 2 {
		t.Fatalf("%d scenario sections, want 2", len(sections))
	}
	for _, s := range sections {
		svgs, legends := 0, ""
		walkHTML(s, func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "svg" {
				svgs++
			}
			if n.Type == html.TextNode {
				legends += n.Data + "|"
			}
		})
		if svgs != 2 {
			t.Errorf("%d charts in a section, want 2 (op, acquire)", svgs)
		}
		for _, want := range []string{"|base|", "|new|", "op latency by percentile", "acquire latency by percentile", "p99.999"} {
			if !strings.Contains(legends, want) {
				t.Errorf("a section does not show %q", want)
			}
		}
	}
	page := string(out)
	if r, s := strings.Index(page, compare.HeadingRegressions), strings.Index(page, "<section"); r < 0 || r > s {
		t.Errorf("the regressions (at %d) do not come before the charts (at %d)", r, s)
	}

	path := filepath.Join("testdata", "regressions.html.golden")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./compare/ -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("output differs from %s (go test ./compare/ -update rewrites it)", path)
	}
}

// TestHTMLHostileNames: names with markup and quotes render as text.
func TestHTMLHostileNames(t *testing.T) {
	name := `peak"><script>alert(1)</script>'` + hostile
	base, new := htmlFixture()
	base.Scenarios[1].Name, new.Scenarios[1].Name = name, name
	new.Plan.Name += "<script>x</script>"
	new.Target.ServerVersion += `"><img src=x>`
	out := renderHTML(t, compare.Runs(base, new, compare.Options{}))
	if bytes.Contains(out, []byte("<script")) || bytes.Contains(out, []byte("<img")) {
		t.Errorf("hostile text became markup")
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	walkHTML(doc, func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
	})
	if !strings.Contains(text.String(), `peak"><script>alert(1)</script>'`) {
		t.Errorf("the hostile name is not shown as text")
	}
	noControl(t, "HTML", string(out), false)
}
