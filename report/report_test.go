package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	// tablewriter measures ambiguous-width runes (–, µ) by the locale; pin
	// narrow widths so that the golden files do not depend on it.
	os.Setenv("RUNEWIDTH_EASTASIAN", "0")
	flag.Parse()
	os.Exit(m.Run())
}

// cases are the fixed runs every renderer is checked against.
var cases = []struct {
	name string
	run  func() *results.Run
}{
	{"passing", PassingRun},
	{"failing", FailingRun},
	{"unreachable", UnreachableRun},
	{"inconclusive", InconclusiveRun},
	{"faults", FaultsRun},
	{"replicas", ReplicasRun},
	{"segment", SegmentRun},
	{"merged", MergedRun},
	{"service", ServiceRun},
	{"http-only", HTTPOnlyRun},
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test ./report/ -update writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test ./report/ -update rewrites it)\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("first difference at line %d:\nwant: %q\ngot:  %q", i+1, w, g)
		}
	}
	return "same lines, different bytes"
}

func render(t *testing.T, format string, run *results.Run, opts report.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Render(&buf, format, run, opts); err != nil {
		t.Fatalf("Render(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	formats := []struct {
		format, ext string
		opts        report.Options
	}{
		{"table", "txt", report.Options{}},
		{"table", "color.txt", report.Options{Color: true}},
		{"markdown", "md", report.Options{}},
		{"json", "json", report.Options{}},
		{"junit", "xml", report.Options{}},
	}
	for _, c := range cases {
		for _, f := range formats {
			t.Run(c.name+"/"+f.ext, func(t *testing.T) {
				golden(t, c.name+"."+f.ext+".golden", render(t, f.format, c.run(), f.opts))
			})
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	err := report.Render(&bytes.Buffer{}, "pdf", PassingRun(), report.Options{})
	if err == nil {
		t.Fatal("Render(pdf) succeeded, want an error")
	}
	for _, f := range report.Formats {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not name valid format %q", err, f)
		}
	}
}

func TestRenderersDoNotModifyRun(t *testing.T) {
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			run := secretRun()
			render(t, format, run, report.Options{Color: true})
			if !reflect.DeepEqual(run, secretRun()) {
				t.Errorf("%s renderer modified its input", format)
			}
		})
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name string
		run  *results.Run
		opts report.Options
		want []string // substrings, in order
		not  []string
	}{
		{
			name: "passing ends with the verdict",
			run:  PassingRun(),
			want: []string{"size 20 + overflow 30, timeout 30s", "2,173", "exhaustion_recovery", "412ms after stage 2",
				"✓", "acquire.p95 < 200ms", "acquire.p95 = 148ms", "✓  APPROVED FOR PRODUCTION\n"},
			not: []string{"\x1b["},
		},
		{
			name: "failing marks critical, warning and skipped outcomes",
			run:  FailingRun(),
			want: []string{"✗", "acquire.p95 = 312ms", "!", "utilization.p95 = 91.2%", "–", "skipped: scenario soak",
				"error: time: unknown unit", "not recovered", "✗  NOT APPROVED FOR PRODUCTION\n"},
		},
		{
			name: "colour only when asked",
			run:  FailingRun(),
			opts: report.Options{Color: true},
			want: []string{"\x1b[32m✓\x1b[0m", "\x1b[31m✗\x1b[0m", "\x1b[33m!\x1b[0m", "\x1b[1m\x1b[31m✗  NOT APPROVED FOR PRODUCTION\x1b[0m\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, "table", tt.run, tt.opts))
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("table lacks %q (in order) in:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if !strings.HasSuffix(out, tt.want[len(tt.want)-1]) {
				t.Errorf("the verdict %q is not the last line", tt.want[len(tt.want)-1])
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("table contains %q", n)
				}
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name      string
		run       *results.Run
		firstLine string
		sentence  string
	}{
		{"passing", PassingRun(), "## ✅ APPROVED FOR PRODUCTION — production",
			"All 25 critical checks passed."},
		{"failing", FailingRun(), "## ❌ NOT APPROVED FOR PRODUCTION — production",
			"6 of 26 critical checks failed: acquire p95 under 200ms (stress), acquire p95 under 200ms (exhaustion_recovery)"},
		{"unreachable", UnreachableRun(), "## ❌ NOT APPROVED FOR PRODUCTION — production",
			"Preflight: 0 passed, 0 warned, 1 failed (server reachable). The run failed: preflight: server reachable: dial tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, "markdown", tt.run, report.Options{}))
			lines := strings.Split(out, "\n")
			if lines[0] != tt.firstLine {
				t.Errorf("first line = %q, want %q", lines[0], tt.firstLine)
			}
			if !strings.HasPrefix(lines[2], tt.sentence) {
				t.Errorf("sentence = %q, want prefix %q", lines[2], tt.sentence)
			}
			if o, c := strings.Count(out, "<details>"), strings.Count(out, "</details>"); o != c || o == 0 {
				t.Errorf("%d <details> and %d </details>", o, c)
			}
			checkMarkdownTables(t, out)
		})
	}
}

// checkMarkdownTables checks that every row of every GFM table has as many
// cells as its header, counting unescaped pipes: an unescaped | in a cell
// would break the table on GitHub.
func checkMarkdownTables(t *testing.T, md string) {
	t.Helper()
	cols := -1
	for i, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = -1
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if cols < 0 {
			cols = n
		} else if n != cols {
			t.Errorf("line %d has %d cell separators, its table %d: %s", i+1, n, cols, line)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	run := UnreachableRun()
	run.Preflight[0].Reason = "a|b <script>alert(1)</script> *bold* [link](http://x)\nsecond line"
	out := string(render(t, "markdown", run, report.Options{}))
	want := `a\|b &lt;script&gt;alert(1)&lt;/script&gt; \*bold\* \[link\](http://x) second line`
	if !strings.Contains(out, want) {
		t.Errorf("markdown lacks escaped reason %q:\n%s", want, out)
	}
	if strings.Contains(out, "<script>") {
		t.Error("markdown contains raw HTML from a reason")
	}
	checkMarkdownTables(t, out)
}

func TestMarkdownSeriesCondensed(t *testing.T) {
	run := PassingRun()
	s := &run.Scenarios[0]
	s.Series = nil
	for i := range 600 {
		s.Series = append(s.Series, results.Point{T: time.Duration(i+1) * time.Second, Users: 25, Ops: 240, AcquireP95: time.Duration(i) * time.Microsecond})
	}
	s.SeriesStep = time.Second
	out := string(render(t, "markdown", run, report.Options{}))
	_, section, _ := strings.Cut(out, "**normal**: 20 of 600 points, one every 1s")
	section, _, _ = strings.Cut(section, "**peak**")
	rows := strings.Count(section, "\n| ") - 1 // minus the header
	if rows != 20 {
		t.Errorf("normal series has %d rows, want 20:\n%s", rows, section)
	}
	for _, want := range []string{"| 1s | 25 | 240 |", "| 10m00s | 25 | 240 |"} {
		if !strings.Contains(section, want) {
			t.Errorf("series lacks first/last point %q", want)
		}
	}
}

// seriesSection returns the markdown time-series block of scenario name.
func seriesSection(t *testing.T, md, name string) string {
	t.Helper()
	_, section, ok := strings.Cut(md, "**"+name+"**: ")
	if !ok {
		t.Fatalf("no time series for %s:\n%s", name, md)
	}
	section, _, _ = strings.Cut(section, "\n\n**")
	section, _, _ = strings.Cut(section, "</details>")
	return section
}

// The markdown time series prints t as elapsed time (12s, 1m05s), marks
// warm-up points and says the warm-up is left out of the figures. Each
// row's ops/s is its ops over its real interval, since the previous point
// (the first since 0): 40/10s, 41/2s, 42/53s, 43/4,000s.
func TestMarkdownSeriesTimeAndWarmup(t *testing.T) {
	run := PassingRun()
	s := &run.Scenarios[0]
	s.SeriesStep = time.Second
	s.Warmup = 10 * time.Second
	s.Series = []results.Point{
		{T: 10 * time.Second, Users: 5, Ops: 40, Warmup: true},
		{T: 12 * time.Second, Users: 5, Ops: 41},
		{T: 65 * time.Second, Users: 5, Ops: 42},
		{T: time.Hour + 5*time.Minute, Users: 5, Ops: 43},
	}
	section := seriesSection(t, string(render(t, "markdown", run, report.Options{})), "normal")
	for _, want := range []string{
		"warm-up 10s excluded from the figures",
		"| 10s (warm-up) | 5 | 4.0 |", "| 12s | 5 | 20.5 |", "| 1m05s | 5 | 0.8 |", "| 1h05m00s | 5 | 0.0 |",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("series lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "12000000000") || strings.Contains(section, "| 12s (warm-up)") {
		t.Errorf("series shows nanoseconds or marks a point after the warm-up:\n%s", section)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := c.run()
			var buf bytes.Buffer
			if err := report.JSON(&buf, run); err != nil {
				t.Fatal(err)
			}
			got, err := results.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, run) {
				a, _ := json.Marshal(run)
				b, _ := json.Marshal(got)
				t.Errorf("round trip changed the run:\n%s", firstDiff(string(a), string(b)))
			}
		})
	}
}

func TestJSONSetsNothing(t *testing.T) {
	run := PassingRun()
	run.SchemaVersion = 0
	var buf bytes.Buffer
	if err := report.JSON(&buf, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"schema_version": 0,`) {
		t.Errorf("JSON changed schema_version:\n%.200s", buf.String())
	}
}

func TestDecodeIgnoresNewFields(t *testing.T) {
	run, err := results.Decode(strings.NewReader(`{"schema_version": 1, "plan": {"name": "p"}, "added_later": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if run.Plan.Name != "p" {
		t.Errorf("plan name = %q", run.Plan.Name)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, render(t, "json", FailingRun(), report.Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := results.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, FailingRun()) {
		t.Error("ReadFile did not return the run written")
	}
	if _, err := results.ReadFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("ReadFile of a missing file succeeded")
	}
}

// The histogram in a report decodes the way docs/json-report.md says.
func TestHistogramDecodes(t *testing.T) {
	run, err := results.Decode(bytes.NewReader(render(t, "json", PassingRun(), report.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	h, err := hdrhistogram.Decode([]byte(run.Scenarios[0].Acquire.Histogram))
	if err != nil {
		t.Fatalf("hdrhistogram.Decode: %v", err)
	}
	if h.TotalCount() != 8 {
		t.Errorf("count = %d, want 8", h.TotalCount())
	}
	if p50 := time.Duration(h.ValueAtQuantile(50)); p50 < 19900*time.Nanosecond || p50 > 20500*time.Nanosecond {
		t.Errorf("p50 = %v, want ~20µs (the 4th of 8 values)", p50)
	}
	if max := time.Duration(h.Max()); max < 3090*time.Microsecond || max > 3110*time.Microsecond {
		t.Errorf("max = %v, want ~3.1ms", max)
	}
}

// junitDoc mirrors what CI JUnit parsers read.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     float64  `xml:"time,attr"`
	Suites   []struct {
		Name     string  `xml:"name,attr"`
		Tests    int     `xml:"tests,attr"`
		Failures int     `xml:"failures,attr"`
		Errors   int     `xml:"errors,attr"`
		Skipped  int     `xml:"skipped,attr"`
		Time     float64 `xml:"time,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitStructure(t *testing.T) {
	tests := []struct {
		name                             string
		run                              *results.Run
		suites                           []string
		tests, failures, errors, skipped int
	}{
		{"passing", PassingRun(), []string{"preflight", "normal", "peak", "stress", "exhaustion_recovery", "soak"}, 3 + 28, 0, 0, 1},
		{"failing", FailingRun(), []string{"preflight", "normal", "peak", "stress", "exhaustion_recovery", "soak"}, 3 + 29, 5, 1, 1},
		{"unreachable", UnreachableRun(), []string{"preflight", "run"}, 2, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc junitDoc
			if err := xml.Unmarshal(render(t, "junit", tt.run, report.Options{}), &doc); err != nil {
				t.Fatalf("unmarshal JUnit: %v", err)
			}
			if doc.Name != "production" {
				t.Errorf("testsuites name = %q", doc.Name)
			}
			if got := [4]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}; got != [4]int{tt.tests, tt.failures, tt.errors, tt.skipped} {
				t.Errorf("tests/failures/errors/skipped = %v, want %v", got, [4]int{tt.tests, tt.failures, tt.errors, tt.skipped})
			}
			var names []string
			var sum [4]int
			for _, s := range doc.Suites {
				names = append(names, s.Name)
				var counted [4]int
				for _, c := range s.Cases {
					counted[0]++
					if c.Failure != nil {
						counted[1]++
					}
					if c.Error != nil {
						counted[2]++
					}
					if c.Skipped != nil {
						counted[3]++
					}
					if want := "planrun.production." + s.Name; c.Classname != want {
						t.Errorf("classname = %q, want %q", c.Classname, want)
					}
				}
				if got := [4]int{s.Tests, s.Failures, s.Errors, s.Skipped}; got != counted {
					t.Errorf("suite %s counts %v, its testcases %v", s.Name, got, counted)
				}
				for i := range sum {
					sum[i] += counted[i]
				}
			}
			if !reflect.DeepEqual(names, tt.suites) {
				t.Errorf("suites = %v, want %v", names, tt.suites)
			}
			if sum != [4]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped} {
				t.Errorf("testsuites counts %v, suites add up to %v", [4]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}, sum)
			}
		})
	}
}

func TestJUnitOutcomes(t *testing.T) {
	var doc junitDoc
	if err := xml.Unmarshal(render(t, "junit", FailingRun(), report.Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	find := func(suite, name string) (found bool, failure, errMsg, skipped, out string) {
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				if s.Name == suite && c.Name == name {
					if c.Failure != nil {
						failure = c.Failure.Type + ": " + c.Failure.Message
					}
					if c.Error != nil {
						errMsg = c.Error.Message
					}
					if c.Skipped != nil {
						skipped = c.Skipped.Message
					}
					return true, failure, errMsg, skipped, c.SystemOut
				}
			}
		}
		return
	}
	tests := []struct {
		name, suite, testcase            string
		failure, err, skipped, systemOut string
	}{
		{"critical failure", "stress", "acquire p95 under 200ms", "assertion: acquire.p95 = 312ms (check: acquire.p95 < 200ms)", "", "", ""},
		{"critical pass", "normal", "acquire p95 under 200ms", "", "", "", ""},
		{"evaluation error", "normal", "query p99 under 1s", "", `could not evaluate query.p99 < duration("1 s"): time: unknown unit " s" in duration "1 s"`, "", ""},
		{"skipped", "soak", "soak holds for an hour", "", "", "scenario soak was not selected (--scenario)", ""},
		{"failing warning passes", "peak", "pool utilization below 85% sustained", "", "", "", "warning: utilization.p95 = 91.2% (check: utilization.p95 < 0.85)"},
		{"preflight warning passes", "preflight", "pg_stat_statements", "", "", "", "warn: extension not installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, failure, errMsg, skipped, out := find(tt.suite, tt.testcase)
			if !found {
				t.Fatalf("no testcase %q in suite %q", tt.testcase, tt.suite)
			}
			if failure != tt.failure || errMsg != tt.err || skipped != tt.skipped {
				t.Errorf("failure %q error %q skipped %q, want %q %q %q", failure, errMsg, skipped, tt.failure, tt.err, tt.skipped)
			}
			if !strings.HasPrefix(out, tt.systemOut) || (tt.systemOut == "" && out != "") {
				t.Errorf("system-out = %q, want prefix %q", out, tt.systemOut)
			}
		})
	}
}

// secretRun is the failing run with a password in every place one may leak.
func secretRun() *results.Run {
	run := FailingRun()
	run.Target.URL = "postgres://app:s3cr3t-pw@db:5432/x"
	run.StatusReason = "connect postgres://app:s3cr3t-pw@db:5432/x failed"
	run.Scenarios[3].ErrorSamples[results.ErrConnect] = "failed to connect to `host=db user=app password=s3cr3t-pw database=x`: server error"
	run.Scenarios[3].ErrorsBy[results.ErrConnect] = 1
	run.Preflight[0].Reason = "connected with password=s3cr3t-pw"
	run.Assertions[0].Reason = "dsn postgres://app:s3cr3t-pw@db/x"
	run.Assertions[len(run.Assertions)-1].Reason = "cannot connect: password=s3cr3t-pw rejected"
	run.Verdict.Criteria[1].Reasons = append(run.Verdict.Criteria[1].Reasons, "host=db password=s3cr3t-pw")
	return run
}

func TestNoFormatLeaksPassword(t *testing.T) {
	for _, format := range report.Formats {
		for _, color := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/color=%t", format, color), func(t *testing.T) {
				out := string(render(t, format, secretRun(), report.Options{Color: color}))
				if strings.Contains(out, "s3cr3t-pw") {
					t.Errorf("%s output contains the password", format)
				}
				if !strings.Contains(out, "xxxxx") {
					t.Errorf("%s output shows no masked password at all", format)
				}
			})
		}
	}
	t.Run("files", func(t *testing.T) {
		dir := t.TempDir()
		paths, err := report.WriteFiles(dir, secretRun(), time.Date(2025, 3, 14, 9, 30, 0, 0, time.Local))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte("s3cr3t-pw")) {
				t.Errorf("%s contains the password", p)
			}
		}
	})
}

func TestWriteFiles(t *testing.T) {
	tests := []struct {
		name, plan, base string
	}{
		{"plain name", "production", "production_20250314_093005_042"},
		{"unsafe name", "../prod plan/α", "prod_plan_20250314_093005_042"},
		{"empty name", "", "planrun_20250314_093005_042"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "reports", "nested") // created if missing
			run := FailingRun()
			run.Plan.Name = tt.plan
			now := time.Date(2025, 3, 14, 9, 30, 5, 42_999_999, time.Local) // milliseconds truncated
			paths, err := report.WriteFiles(dir, run, now)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{
				filepath.Join(dir, tt.base+".json"), filepath.Join(dir, tt.base+".md"), filepath.Join(dir, tt.base+".xml"), filepath.Join(dir, tt.base+".html"),
			}
			if !reflect.DeepEqual(paths, want) {
				t.Fatalf("paths = %v, want %v", paths, want)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 4 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("dir holds %v, want exactly the 4 reports (no temp files)", names)
			}
			for i, format := range []string{"json", "markdown", "junit", "html"} {
				got, err := os.ReadFile(paths[i])
				if err != nil {
					t.Fatal(err)
				}
				if want := render(t, format, run, report.Options{}); !bytes.Equal(got, want) {
					t.Errorf("%s differs from the %s renderer's output", paths[i], format)
				}
				if info, _ := os.Stat(paths[i]); info.Mode().Perm() != 0o644 {
					t.Errorf("%s mode %v, want 0644", paths[i], info.Mode().Perm())
				}
			}
		})
	}
}

// TestWriteFilesNeverOverwrites writes reports twice with the same time (two
// runs in the same millisecond), then once more over a foreign file holding
// one of the next names: every report keeps its own files, suffixed -2, -3.
func TestWriteFilesNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 3, 14, 9, 30, 5, 7_000_000, time.Local)
	first, err := report.WriteFiles(dir, FailingRun(), now)
	if err != nil {
		t.Fatal(err)
	}
	second, err := report.WriteFiles(dir, PassingRun(), now)
	if err != nil {
		t.Fatal(err)
	}
	// Someone else's file takes a name of the -3 set: the third run skips to -4.
	foreign := filepath.Join(dir, "production_20250314_093005_007-3.md")
	if err := os.WriteFile(foreign, []byte("not planrun's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := report.WriteFiles(dir, PassingRun(), now)
	if err != nil {
		t.Fatal(err)
	}

	base := filepath.Join(dir, "production_20250314_093005_007")
	for _, c := range []struct {
		paths []string
		stem  string
		pass  bool
	}{{first, base, false}, {second, base + "-2", true}, {third, base + "-4", true}} {
		want := []string{c.stem + ".json", c.stem + ".md", c.stem + ".xml", c.stem + ".html"}
		if !reflect.DeepEqual(c.paths, want) {
			t.Errorf("paths = %v, want %v", c.paths, want)
			continue
		}
		got, err := results.ReadFile(c.paths[0])
		if err != nil {
			t.Fatal(err)
		}
		if got.Verdict.Pass != c.pass {
			t.Errorf("%s holds the verdict pass=%v, want %v: a later run overwrote it", c.paths[0], got.Verdict.Pass, c.pass)
		}
	}
	if b, _ := os.ReadFile(foreign); string(b) != "not planrun's\n" {
		t.Errorf("the foreign file was changed: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 13 { // 3 × 4 reports and the foreign file: no temp file, no half set
		t.Errorf("dir holds %q, want the 12 reports and the foreign file", names)
	}
}

func TestWriteFilesErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := report.WriteFiles(file, PassingRun(), time.Now()); err == nil {
		t.Error("WriteFiles into a regular file succeeded")
	}
}

func TestAppendGitHubSummary(t *testing.T) {
	t.Run("unset is a no-op", func(t *testing.T) {
		t.Setenv("GITHUB_STEP_SUMMARY", "")
		if err := report.AppendGitHubSummary(PassingRun()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("appends", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "summary.md")
		if err := os.WriteFile(path, []byte("# earlier step\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("GITHUB_STEP_SUMMARY", path)
		for _, run := range []*results.Run{PassingRun(), FailingRun()} {
			if err := report.AppendGitHubSummary(run); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := "# earlier step\n" + string(render(t, "markdown", PassingRun(), report.Options{})) + "\n" +
			string(render(t, "markdown", FailingRun(), report.Options{})) + "\n"
		if string(got) != want {
			t.Errorf("summary file:\n%s", firstDiff(want, string(got)))
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		t.Setenv("GITHUB_STEP_SUMMARY", filepath.Join(t.TempDir(), "missing", "summary.md"))
		if err := report.AppendGitHubSummary(PassingRun()); err == nil {
			t.Error("append to a file in a missing directory succeeded")
		}
	})
}

func TestCheckGitHubSummary(t *testing.T) {
	t.Run("unset", func(t *testing.T) {
		t.Setenv("GITHUB_STEP_SUMMARY", "")
		if err := report.CheckGitHubSummary(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("existing file is kept whole", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "summary.md")
		if err := os.WriteFile(path, []byte("# earlier step\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("GITHUB_STEP_SUMMARY", path)
		if err := report.CheckGitHubSummary(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != "# earlier step\n" {
			t.Errorf("the check changed the file: %q", b)
		}
	})
	for name, path := range map[string]string{
		"missing directory": filepath.Join(t.TempDir(), "missing", "summary.md"),
		"a directory":       t.TempDir(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("GITHUB_STEP_SUMMARY", path)
			err := report.CheckGitHubSummary()
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("want an error naming %s, got %v", path, err)
			}
		})
	}
}

func TestJUnitHostileText(t *testing.T) {
	run := FailingRun()
	for i := range run.Assertions {
		if run.Assertions[i].Status == results.OutcomeError {
			run.Assertions[i].Reason = "bad \x1b[31mcolour\x1b[0m and \x00 nul ]]> end <tag> & \"quote\""
		}
	}
	var doc junitDoc
	if err := xml.Unmarshal(render(t, "junit", run, report.Options{}), &doc); err != nil {
		t.Fatalf("JUnit with control characters and ]]> is not well-formed XML: %v", err)
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Error != nil && !strings.Contains(c.Error.Message, "]]> end <tag> & \"quote\"") {
				t.Errorf("error message = %q, lost the text", c.Error.Message)
			}
		}
	}
}

// loadRow returns the load-table line of scenario name.
func loadRow(t *testing.T, table, name string) string {
	t.Helper()
	_, load, _ := strings.Cut(table, "\nLoad\n")
	load, _, _ = strings.Cut(load, "\n\n")
	for _, line := range strings.Split(load, "\n") {
		if strings.HasPrefix(line, "│ "+name+" ") {
			return line
		}
	}
	t.Fatalf("no load row for %s in:\n%s", name, load)
	return ""
}

// cells splits a table or markdown row into its trimmed cells.
func cells(row string) []string {
	var out []string
	for _, c := range strings.FieldsFunc(row, func(r rune) bool { return r == '│' || r == '|' }) {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// The users column is the peak of users that ran (MaxUsers), whatever the
// series or the plan say.
func TestUsersIsMaxUsers(t *testing.T) {
	run := PassingRun()
	run.Scenarios[2].MaxUsers = 37 // the series says 100 throughout
	if got := cells(loadRow(t, string(render(t, "table", run, report.Options{})), "stress")); got[2] != "37" {
		t.Errorf("table users = %q, want 37 (row %q)", got[2], got)
	}
	md := string(render(t, "markdown", run, report.Options{}))
	if !strings.Contains(md, "\n| stress | 37 | 3m00s |") {
		t.Errorf("markdown scenarios row does not show users 37:\n%s", md)
	}
	xml := string(render(t, "junit", run, report.Options{}))
	if !strings.Contains(xml, `<property name="users" value="37">`) {
		t.Error("JUnit users property is not 37")
	}
}

// Cancelled operations show in their own column (only when there are
// some), never as errors; the success rate is the engine's.
func TestCancelled(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		for _, format := range []string{"table", "markdown", "junit"} {
			if out := string(render(t, format, PassingRun(), report.Options{})); strings.Contains(out, "cancelled") {
				t.Errorf("%s shows cancelled although no operation was", format)
			}
		}
	})
	run := PassingRun()
	s := &run.Scenarios[1]
	s.Status = results.StatusInterrupted
	s.Cancelled = 9
	table := string(render(t, "table", run, report.Options{}))
	if got := cells(loadRow(t, table, "peak")); len(got) != 9 || got[6] != "0" || got[7] != "100%" || got[8] != "9" {
		t.Errorf("peak row %q: want errors 0, success 100%%, cancelled 9", got)
	}
	if got := cells(loadRow(t, table, "normal")); len(got) != 9 || got[8] != "0" {
		t.Errorf("normal row %q: want cancelled 0", got)
	}
	if !strings.Contains(table, "│ cancelled   │ 9 operations cut short (not counted in ops or errors)") {
		t.Errorf("peak pool diagnostics do not explain the cancelled operations:\n%s", table)
	}
	md := string(render(t, "markdown", run, report.Options{}))
	for _, want := range []string{
		"| scenario | users | elapsed | ops | ops/s | errors | success | cancelled | acquire p95 |",
		"\n| peak (interrupted) | 50 | 5m30s | 155,877 | 472 | 0 | 100% | 9 | 640µs |",
		"\n| cancelled (not errors) | 0 | 9 | 0 | 0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	checkMarkdownTables(t, md)
	if xml := string(render(t, "junit", run, report.Options{})); !strings.Contains(xml, `<property name="cancelled" value="9">`) {
		t.Error("JUnit has no cancelled property")
	}
}

// Each recovery status reads as what it means, in the table and markdown;
// only a measured failure to recover is red.
func TestRecoveryStatuses(t *testing.T) {
	tests := []struct {
		name string
		r    results.Recovery
		want string
		code string // colour of the cell
	}{
		{"recovered", results.Recovery{AfterStage: 2, Status: results.RecoveryRecovered, Duration: 123 * ms, Settle: 500 * ms},
			"123ms after stage 2 (settled 500ms)", ""},
		{"not recovered", results.Recovery{AfterStage: 2, Status: results.RecoveryNotRecovered, Duration: 1900 * ms, Settle: 500 * ms},
			"not recovered by the end (1.9s after stage 2)", "\x1b[31m"},
		{"not stressed", results.Recovery{AfterStage: 2, Status: results.RecoveryNotStressed, Settle: 500 * ms},
			"not measured: the pool was never exhausted nor slow in stage 2", "\x1b[33m"},
		{"not reached", results.Recovery{AfterStage: 2, Status: results.RecoveryNotReached, Settle: 500 * ms},
			"not measured: the scenario stopped before stage 2 ended", "\x1b[33m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := PassingRun()
			r := tt.r
			run.Scenarios[3].Recovery = &r
			// Long texts wrap in the table; compare with the lines joined.
			table := string(render(t, "table", run, report.Options{Color: true}))
			_, pool, _ := strings.Cut(table, "Pool · exhaustion_recovery")
			if !strings.Contains(pool, "│ recovery      │ "+tt.code+tt.want[:20]) {
				t.Errorf("table recovery row does not start %q (colour %q):\n%s", tt.want[:20], tt.code, pool)
			}
			md := string(render(t, "markdown", run, report.Options{}))
			if !strings.Contains(md, "| recovery | – | – | – | "+tt.want+" |") {
				t.Errorf("markdown lacks recovery %q", tt.want)
			}
		})
	}
}

// Built-in assertions carry a mark after their name.
func TestBuiltinOutcomes(t *testing.T) {
	run := PassingRun()
	table := string(render(t, "table", run, report.Options{}))
	if !strings.Contains(table, "│ ✓ │ zero connection leaks      │") || !strings.Contains(table, "│   │ (built-in)                 │") {
		t.Errorf("table does not mark the built-in assertion:\n%s", table)
	}
	if strings.Contains(table, "acquire p95 under 200ms (built-in)") {
		t.Error("table marks a plan assertion as built-in")
	}
	md := string(render(t, "markdown", run, report.Options{}))
	if !strings.Contains(md, "| ✅ | zero connection leaks (built-in) | normal |") {
		t.Error("markdown does not mark the built-in assertion")
	}
	if strings.Contains(md, "acquire p95 under 200ms (built-in)") {
		t.Error("markdown marks a plan assertion as built-in")
	}
}

// A run of one scenario with one assertion speaks in the singular.
func TestSingularWording(t *testing.T) {
	run := PassingRun()
	run.Scenarios = run.Scenarios[3:4]
	run.Scenarios[0].Exhaustion = results.Exhaustion{Events: 1, Total: 2 * time.Second, Longest: 2 * time.Second, Timeouts: 1}
	run.Assertions = run.Assertions[:1]
	run.Assertions[0].Scenario = run.Scenarios[0].Name
	table := string(render(t, "table", run, report.Options{}))
	md := string(render(t, "markdown", run, report.Options{}))
	for _, want := range []string{"1 event, total 2s, longest 2s, 1 timeout", "The one critical check passed."} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	for _, want := range []string{"All assertions (1 evaluation)", "The one critical check passed."} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, bad := range []string{"1 events", "1 timeouts", "1 evaluations", "1 critical checks", "All 1 "} {
		if strings.Contains(table+md, bad) {
			t.Errorf("output says %q", bad)
		}
	}
}

// TestInterruptedTeardownShown: a teardown stopped by a second signal lists
// the statements that did not run in the table and the markdown, not only
// in the JSON.
func TestInterruptedTeardownShown(t *testing.T) {
	run := PassingRun()
	run.Status, run.StatusReason = results.StatusInterrupted, "interrupted (SIGINT) during teardown"
	run.TeardownError = "teardown interrupted: these statements did not run:\n  SELECT pg_sleep(30)\n  DROP TABLE accounts"
	for _, format := range []string{"table", "markdown"} {
		out := string(render(t, format, run, report.Options{}))
		for _, want := range []string{"teardown interrupted: these statements did not run", "SELECT pg_sleep(30)", "DROP TABLE accounts"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", format, want, out)
			}
		}
	}
}

// TestJUnitUnmeasuredCriticalIsAnError: a critical assertion skipped because
// its figure was not measured failed the verdict, so JUnit must not show it
// as a harmless skip.
func TestJUnitUnmeasuredCriticalIsAnError(t *testing.T) {
	run := PassingRun()
	run.Assertions = append(run.Assertions[:0:0], results.Outcome{
		Name: "no leaks", Scenario: "normal", Check: "leaks == 0", Severity: results.SeverityCritical,
		Status: results.OutcomeSkipped, Unmeasured: true, Reason: "leaks was not fully measured: monitor connection lost",
	}, results.Outcome{
		Name: "skipped by scope", Scenario: "normal", Check: "recovery < 5s", Severity: results.SeverityCritical,
		Status: results.OutcomeSkipped, Reason: "no recovery_after",
	})
	out := string(render(t, "junit", run, report.Options{}))
	if !strings.Contains(out, `<error message="not measured: leaks was not fully measured: monitor connection lost" type="unmeasured">`) {
		t.Errorf("the unmeasured critical check is not an <error>:\n%s", out)
	}
	if strings.Count(out, "<skipped") != 1 {
		t.Errorf("want exactly one <skipped> (the one skipped by scope):\n%s", out)
	}
}

// An inconclusive run says so with its reason in every human-facing
// format, and never APPROVED or NOT APPROVED.
func TestInconclusiveHeadline(t *testing.T) {
	run := InconclusiveRun()
	line := "INCONCLUSIVE: " + run.Verdict.Reason
	for _, format := range []string{"table", "markdown", "junit"} {
		out := string(render(t, format, run, report.Options{}))
		if strings.Contains(out, "APPROVED") {
			t.Errorf("%s: an inconclusive run mentions APPROVED", format)
		}
		if !strings.Contains(out, line) {
			t.Errorf("%s: no %q", format, line)
		}
	}
	table := strings.TrimRight(string(render(t, "table", run, report.Options{})), "\n")
	if last := table[strings.LastIndex(table, "\n")+1:]; strings.TrimSpace(last) != "?  "+line {
		t.Errorf("table's last line %q, want the inconclusive verdict line", last)
	}
	if md := string(render(t, "markdown", run, report.Options{})); !strings.HasPrefix(md, "## ⚠️ INCONCLUSIVE — production\n\n**"+line) {
		t.Errorf("markdown headline:\n%s", md[:min(len(md), 300)])
	}
}

// TestOpenModelColumns: an open scenario's target rate, dropped arrivals
// and start lag are in the table, the markdown and JUnit; a closed one in
// the same run shows "–" there.
func TestOpenModelColumns(t *testing.T) {
	run := PassingRun()
	s := &run.Scenarios[len(run.Scenarios)-1]
	s.Model, s.Rate, s.Arrivals, s.Dropped = results.ModelOpen, 400, 12000, 37
	s.Lag = latency(12000, 0, time.Millisecond, time.Millisecond, 2*time.Millisecond, 3*time.Millisecond, 4200*time.Microsecond, 9*time.Millisecond)
	for _, format := range []string{"table", "markdown"} {
		out := string(render(t, format, run, report.Options{}))
		for _, want := range []string{"target/s", "dropped", "lag p99", "400", "37", "4.2ms", "–"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", format, want)
			}
		}
		if format == "markdown" {
			checkMarkdownTables(t, out)
		}
	}
	out := string(render(t, "junit", run, report.Options{}))
	for _, want := range []string{`name="target_rate" value="400/s"`, `name="dropped" value="37"`, `name="arrivals" value="12000"`} {
		if !strings.Contains(out, want) {
			t.Errorf("junit lacks %s", want)
		}
	}
}
