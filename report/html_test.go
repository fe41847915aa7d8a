package report_test

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// parseHTML parses out as a browser would, failing the test on error.
func parseHTML(t *testing.T, out []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("the HTML does not parse: %v", err)
	}
	return doc
}

// walk calls f on n and every node under it.
func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

// selfContained fails on anything that would make a browser fetch or run
// something: a script, a src or href other than a fragment, an
// xlink:href, a CSS url() or @import.
func selfContained(t *testing.T, doc *html.Node) {
	t.Helper()
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "link" || n.Data == "iframe" || n.Data == "img" {
				t.Errorf("the HTML holds a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				switch key := strings.ToLower(a.Key); {
				case key == "src" || key == "href" || key == "action" || key == "srcset":
					if !strings.HasPrefix(a.Val, "#") {
						t.Errorf("<%s %s=%q>: a URL outside the page", n.Data, a.Key, a.Val)
					}
				case strings.HasPrefix(key, "on"):
					t.Errorf("<%s %s=...>: an event handler", n.Data, a.Key)
				case key == "style" && cssFetches(a.Val):
					t.Errorf("<%s style=%q> fetches something", n.Data, a.Val)
				}
				if a.Namespace == "xlink" {
					t.Errorf("<%s xlink:%s=%q>", n.Data, a.Key, a.Val)
				}
			}
		}
		if n.Type == html.TextNode && n.Parent != nil && n.Parent.Data == "style" && cssFetches(n.Data) {
			t.Errorf("a <style> fetches something:\n%s", n.Data)
		}
	})
}

func cssFetches(css string) bool {
	css = strings.ToLower(css)
	return strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "http")
}

// sections returns the <section> elements of doc.
func sections(doc *html.Node) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "section" {
			out = append(out, n)
		}
	})
	return out
}

// count counts the elements named tag under n.
func count(n *html.Node, tag string) int {
	c := 0
	walk(n, func(m *html.Node) {
		if m.Type == html.ElementNode && m.Data == tag {
			c++
		}
	})
	return c
}

// text is the visible text under n.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(m *html.Node) {
		if m.Type == html.TextNode && (m.Parent == nil || m.Parent.Data != "style") {
			b.WriteString(m.Data)
		}
	})
	return b.String()
}

func TestHTMLGolden(t *testing.T) {
	for _, name := range []string{"faults", "replicas", "service", "http-only"} {
		for _, c := range cases {
			if c.name == name {
				t.Run(name, func(t *testing.T) {
					golden(t, name+".html.golden", render(t, "html", c.run(), report.Options{}))
				})
			}
		}
	}
}

// TestHTMLSelfContained checks every fixture run's page: it parses, fetches
// nothing, and shows one section per scenario, each with its charts over
// time (when it has a series) and its percentile plot (when its
// histograms decode).
func TestHTMLSelfContained(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := c.run()
			doc := parseHTML(t, render(t, "html", run, report.Options{}))
			selfContained(t, doc)
			secs := sections(doc)
			if len(secs) != len(run.Scenarios) {
				t.Fatalf("%d sections for %d scenarios", len(secs), len(run.Scenarios))
			}
			for i, s := range run.Scenarios {
				want := 0
				if len(s.Series) > 0 {
					want = 3 // throughput, latency over time, pool
					switch {
					case s.HTTPOnly:
						want = 2 // planrun's pool took no load: no pool chart
					case s.Watch:
						want = 1 // no load: the service's backends only
					}
				}
				if s.Op.Histogram != "" || s.Acquire.Histogram != "" || s.Query.Histogram != "" {
					want++ // the percentile plot, when at least one decodes
				}
				if got := count(secs[i], "svg"); got < want-1 || got > want || (len(s.Series) > 0 && !s.HTTPOnly && !s.Watch && got < 3) {
					t.Errorf("scenario %s: %d charts, want %d", s.Name, got, want)
				}
				if !strings.Contains(text(secs[i]), s.Name) {
					t.Errorf("scenario %s: its section does not name it", s.Name)
				}
			}
			if !strings.Contains(text(doc), run.Plan.Name) {
				t.Errorf("the page does not name the plan")
			}
		})
	}
}

// TestHTMLOrder: the verdict comes first, then the certificate, then the
// scenarios, then every assertion.
func TestHTMLOrder(t *testing.T) {
	out := string(render(t, "html", FailingRun(), report.Options{}))
	verdict := strings.Index(out, `class="verdict`)
	cert := strings.Index(out, "<h3>Certificate</h3>")
	scen := strings.Index(out, "<section")
	all := strings.Index(out, "<h2>All assertions</h2>")
	if verdict < 0 || !(verdict < cert && cert < scen && scen < all) {
		t.Errorf("order: verdict %d, certificate %d, scenarios %d, assertions %d", verdict, cert, scen, all)
	}
}

// TestHTMLPercentilePlot: a scenario whose histograms decode gets a
// percentile plot labelled from p0 to p99.999.
func TestHTMLPercentilePlot(t *testing.T) {
	run := PassingRun()
	s := &run.Scenarios[0]
	s.Op = results.Latency{Count: 4, Histogram: encodedHistogram(1e6, 2e6, 3e6, 40e6)}
	out := string(render(t, "html", run, report.Options{}))
	sec := sections(parseHTML(t, []byte(out)))[0]
	shown := text(sec)
	for _, want := range []string{"Latency by percentile", "p0", "p90", "p99.999", "op"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the percentile plot does not show %q", want)
		}
	}
}

// hostileText is what an attack puts in names: markup, quotes, a script,
// a URL, and control characters.
const hostileText = `"><script>alert(1)</script><img src=x onerror=alert(2)>'` + "\x1b[31m\x00 url(http://evil/x)"

// TestHTMLHostileText: hostile names, reasons and error samples render as
// text, never as markup.
func TestHTMLHostileText(t *testing.T) {
	run := FaultsRun()
	run.Plan.Name += hostileText
	run.Plan.Description = hostileText
	run.Target.ServerVersion += hostileText
	run.Scenarios[0].Name += hostileText
	run.Scenarios[0].Operations[0].Name += hostileText
	run.Scenarios[0].Faults[0].What += hostileText
	run.Scenarios[0].Faults[0].Kind += hostileText
	run.Scenarios[0].ErrorSamples = map[string]string{results.ErrAcquireTimeout: hostileText}
	run.Assertions[0].Name += hostileText
	run.Assertions[0].Scenario = run.Scenarios[0].Name
	run.Verdict.Criteria = append(run.Verdict.Criteria, results.Criterion{Name: "c" + hostileText, Status: results.CriterionFail, Reasons: []string{hostileText}})
	out := render(t, "html", run, report.Options{})
	doc := parseHTML(t, out)
	selfContained(t, doc)
	if bytes.Contains(out, []byte("<script")) || bytes.Contains(out, []byte("<img")) {
		t.Errorf("a hostile name became markup")
	}
	if bytes.ContainsAny(out, "\x00\x1b") {
		t.Errorf("a control character reached the page")
	}
	if !strings.Contains(text(doc), `"><script>alert(1)</script>`) {
		t.Errorf("the hostile text is not shown as text")
	}
}
