package main

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/internal/markdown/markdowntest"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// TestJSONOutputAndFiles runs the approved plan once with --format json,
// --out and GITHUB_STEP_SUMMARY set, and checks the JSON, the three files,
// the paths on stderr, the job summary and a byte-identical re-render.
func TestJSONOutputAndFiles(t *testing.T) {
	useDB(t)
	out := filepath.Join(t.TempDir(), "reports") // created by planrun
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)

	before := time.Now().Truncate(time.Millisecond)
	r := planrun(t, plan("approved"), "--format", "json", "--out", out, "--quiet")
	after := time.Now()
	if r.code != ExitApproved {
		t.Fatalf("want exit 0, got %s", r)
	}
	run := decodeRun(t, r)
	if run.SchemaVersion != results.SchemaVersion || run.Plan.Name != "approved" || run.Status != results.StatusCompleted || !run.Verdict.Pass {
		t.Errorf("unexpected run header: schema %d, plan %q, status %q, pass %v", run.SchemaVersion, run.Plan.Name, run.Status, run.Verdict.Pass)
	}
	if len(run.Scenarios) != 1 || run.Scenarios[0].Planned != time.Second || run.Scenarios[0].Ops == 0 {
		t.Errorf("want one scenario of 1 s planned with ops, got %+v", run.Scenarios)
	}

	t.Run("files", func(t *testing.T) {
		entries, err := os.ReadDir(out)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		if len(names) != 4 {
			t.Fatalf("want exactly 4 files in --out, got %q", names)
		}
		re := regexp.MustCompile(`^approved_(\d{8}_\d{6})_(\d{3})\.(json|md|xml|html)$`)
		stamps := map[string]bool{}
		exts := map[string]bool{}
		for _, n := range names {
			m := re.FindStringSubmatch(n)
			if m == nil {
				t.Errorf("file %q is not named <plan>_<YYYYMMDD_HHMMSS_mmm>.{json,md,xml,html}", n)
				continue
			}
			stamps[m[1]+"_"+m[2]] = true
			exts[m[3]] = true
			ts, err := time.ParseInLocation("20060102_150405", m[1], time.Local)
			ms, _ := strconv.Atoi(m[2])
			ts = ts.Add(time.Duration(ms) * time.Millisecond)
			if err != nil || ts.Before(before) || ts.After(after) {
				t.Errorf("timestamp %s of %q is not between the run's start %s and end %s", m[1], n, before.Format(time.TimeOnly), after.Format(time.TimeOnly))
			}
			// Every path is printed on stderr.
			if !strings.Contains(r.stderr, filepath.Join(out, n)) {
				t.Errorf("stderr does not print the path %s:\n%s", filepath.Join(out, n), r.stderr)
			}
		}
		if len(stamps) != 1 || len(exts) != 4 {
			t.Errorf("want one timestamp and four extensions, got %q", names)
		}
		// The JSON file is the report stdout got (names sorted: .html, .json, .md, .xml).
		if len(names) == 4 {
			data, err := os.ReadFile(filepath.Join(out, names[1]))
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != r.stdout {
				t.Errorf("the JSON file differs from the JSON on stdout")
			}
			md, err := os.ReadFile(filepath.Join(out, names[2]))
			if err != nil {
				t.Fatal(err)
			}
			sum, err := os.ReadFile(summary)
			if err != nil {
				t.Fatalf("GITHUB_STEP_SUMMARY was not written: %v", err)
			}
			if strings.TrimSpace(string(sum)) != strings.TrimSpace(string(md)) {
				t.Errorf("GITHUB_STEP_SUMMARY does not hold the markdown report:\n%s", sum)
			}
			if !strings.HasPrefix(string(sum), "## ✅ APPROVED FOR PRODUCTION — approved") {
				t.Errorf("GITHUB_STEP_SUMMARY does not start with the verdict heading:\n%.200s", sum)
			}
			var doc junitDoc
			xmlData, _ := os.ReadFile(filepath.Join(out, names[3]))
			if err := xml.Unmarshal(xmlData, &doc); err != nil {
				t.Errorf("the XML file is not well-formed: %v", err)
			}
		}
	})

	t.Run("report re-renders byte-identical", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "run.json")
		if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		rr := planrun(t, "report", path, "--format", "json")
		if rr.code != ExitApproved {
			t.Fatalf("want exit 0, got %s", rr)
		}
		if rr.stdout != r.stdout {
			t.Errorf("re-rendered JSON differs from the original (%d vs %d bytes)\n%s", len(rr.stdout), len(r.stdout), firstDiff(r.stdout, rr.stdout))
		}
		// The markdown re-render equals the markdown written at run time.
		mds, _ := filepath.Glob(filepath.Join(out, "*.md"))
		if len(mds) == 1 {
			want, _ := os.ReadFile(mds[0])
			rm := planrun(t, "report", path, "--format", "markdown")
			if rm.code != ExitApproved || rm.stdout != string(want) {
				t.Errorf("markdown re-render differs from the run's .md (exit %d)\n%s", rm.code, firstDiff(string(want), rm.stdout))
			}
		}
	})
}

// firstDiff shows where two strings first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return fmt.Sprintf("first difference at byte %d:\n  want …%q\n  got  …%q", i, a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
}

func TestMarkdownOutput(t *testing.T) {
	useDB(t)
	r := planrun(t, plan("approved"), "--format", "markdown", "--quiet")
	if r.code != ExitApproved {
		t.Fatalf("want exit 0, got %s", r)
	}
	first, _, _ := strings.Cut(r.stdout, "\n")
	if first != "## ✅ APPROVED FOR PRODUCTION — approved" {
		t.Errorf("first line %q, want the verdict heading", first)
	}
	for _, want := range []string{"### Scenarios", "<summary>All assertions", "steady"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// junitDoc is the JUnit subset the CI reporters read.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Classname string    `xml:"classname,attr"`
			Name      string    `xml:"name,attr"`
			Failure   *struct{} `xml:"failure"`
			Error     *struct{} `xml:"error"`
			Skipped   *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitOutput(t *testing.T) {
	useDB(t)
	r := planrun(t, plan("not_approved"), "--format", "junit", "--quiet")
	if r.code != ExitNotApproved {
		t.Fatalf("want exit 1, got %s", r)
	}
	var doc junitDoc
	if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("JUnit output is not well-formed XML: %v\n%s", err, r.stdout)
	}
	if doc.Name != "not_approved" {
		t.Errorf("testsuites name %q, want the plan name", doc.Name)
	}
	var tests, failures, errs, skipped int
	var failed []string
	var steady bool
	for _, s := range doc.Suites {
		var st, sf, se, ss int
		for _, c := range s.Cases {
			st++
			switch {
			case c.Failure != nil:
				sf++
				failed = append(failed, c.Name)
			case c.Error != nil:
				se++
			case c.Skipped != nil:
				ss++
			}
		}
		if st != s.Tests || sf != s.Failures || se != s.Errors || ss != s.Skipped {
			t.Errorf("suite %q: attributes tests=%d failures=%d errors=%d skipped=%d, cases give %d/%d/%d/%d",
				s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, st, sf, se, ss)
		}
		tests, failures, errs, skipped = tests+st, failures+sf, errs+se, skipped+ss
		if s.Name == "steady" {
			steady = true
			plans := 0 // the plan's assertions; the built-in checks come on top
			for _, c := range s.Cases {
				if !strings.HasPrefix(c.Name, "built-in: ") {
					plans++
				}
			}
			if plans != 2 || s.Failures != 1 {
				t.Errorf("suite steady: %d plan assertions, %d failures; want 2 assertions, 1 failing", plans, s.Failures)
			}
		}
	}
	if !steady {
		t.Errorf("no testsuite for scenario steady")
	}
	if tests != doc.Tests || failures != doc.Failures || errs != doc.Errors || skipped != doc.Skipped {
		t.Errorf("testsuites attributes tests=%d failures=%d errors=%d skipped=%d, suites give %d/%d/%d/%d",
			doc.Tests, doc.Failures, doc.Errors, doc.Skipped, tests, failures, errs, skipped)
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "nothing was acquired") {
		t.Errorf("failing test cases %q, want the one `nothing was acquired`", failed)
	}
}

// TestRedaction runs with a password in the DSN (ignored by the trust-auth
// test server) and checks it never appears in any output or written file.
func TestRedaction(t *testing.T) {
	const secret = "Sup3r-s3cret"
	u, err := url.Parse(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if u.User == nil {
		t.Skip("the test server's DSN names no user; cannot add a password")
	}
	if _, has := u.User.Password(); has {
		t.Skip("the test server's DSN has a password of its own (PLANRUN_TEST_DATABASE_URL)")
	}
	u.User = url.UserPassword(u.User.Username(), secret)
	withPassword := u.String()
	port := closedPort(t)
	unreachable := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", secret, port)
	unreachableQuery := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&password=%s", port, secret)
	unreachableKV := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres password=%s sslmode=disable", port, secret)

	tests := []struct {
		name   string
		dsn    string
		format string
		want   int
	}{
		{"table", withPassword, "table", ExitApproved},
		{"markdown", withPassword, "markdown", ExitApproved},
		{"json", withPassword, "json", ExitApproved},
		{"junit", withPassword, "junit", ExitApproved},
		{"unreachable url", unreachable, "table", ExitCouldNotRun},
		{"unreachable url json", unreachable, "json", ExitCouldNotRun},
		{"unreachable query password", unreachableQuery, "json", ExitCouldNotRun},
		{"unreachable key-value dsn", unreachableKV, "json", ExitCouldNotRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", tt.dsn)
			out := t.TempDir()
			summary := filepath.Join(t.TempDir(), "summary.md")
			t.Setenv("GITHUB_STEP_SUMMARY", summary)
			// Not --quiet: the progress and pipeline lines on stderr count too.
			r := planrun(t, plan("approved"), "--format", tt.format, "--out", out)
			if r.code != tt.want {
				t.Fatalf("want exit %d, got %s", tt.want, r)
			}
			if strings.Contains(r.stdout, secret) {
				t.Errorf("the password appears on stdout:\n%s", excerpt(r.stdout, secret))
			}
			if strings.Contains(r.stderr, secret) {
				t.Errorf("the password appears on stderr:\n%s", excerpt(r.stderr, secret))
			}
			files, _ := filepath.Glob(filepath.Join(out, "*"))
			files = append(files, summary)
			if len(files) != 5 {
				t.Errorf("want 4 reports and the job summary, got %q", files)
			}
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Error(err)
					continue
				}
				if strings.Contains(string(data), secret) {
					t.Errorf("the password appears in %s:\n%s", filepath.Base(f), excerpt(string(data), secret))
				}
			}
			if tt.format == "json" {
				run := decodeRun(t, r)
				if run.Target.URL == "" && tt.want == ExitApproved {
					t.Errorf("target.url is empty")
				}
				t.Logf("target.url = %q", run.Target.URL)
			}
		})
	}
}

// excerpt shows the text around the first occurrence of s.
func excerpt(text, s string) string {
	i := strings.Index(text, s)
	if i < 0 {
		return ""
	}
	return text[max(0, i-120):min(len(text), i+len(s)+40)]
}

// TestTableRerender: `planrun report RUN.json` prints exactly what the run
// printed (docs/reports.md), and the --out files hold exactly what
// --format json|markdown|junit print.
func TestTableRerender(t *testing.T) {
	useDB(t)
	out := t.TempDir()
	r := planrun(t, plan("not_approved"), "--out", out, "--quiet")
	if r.code != ExitNotApproved {
		t.Fatalf("want exit 1, got %s", r)
	}
	jsons, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(jsons) != 1 {
		t.Fatalf("want one JSON file in --out, got %q", jsons)
	}
	rr := planrun(t, "report", jsons[0])
	if rr.code != ExitApproved {
		t.Errorf("report of a not-approved run: want exit 0 (rendered), got %d", rr.code)
	}
	if rc := planrun(t, "report", jsons[0], "--exit-code"); rc.code != r.code || rc.stdout != rr.stdout {
		t.Errorf("report --exit-code: want the run's exit %d and the same table, got exit %d", r.code, rc.code)
	}
	if rr.stdout != r.stdout {
		t.Errorf("the table re-rendered from the JSON differs from the run's\n%s", firstDiff(r.stdout, rr.stdout))
	}
	if !strings.HasSuffix(strings.TrimRight(r.stdout, "\n"), "NOT APPROVED FOR PRODUCTION") {
		t.Errorf("the table's last line is not the verdict:\n…%s", r.stdout[max(0, len(r.stdout)-200):])
	}
	for ext, format := range map[string]string{".md": "markdown", ".xml": "junit"} {
		want, err := os.ReadFile(strings.TrimSuffix(jsons[0], ".json") + ext)
		if err != nil {
			t.Error(err)
			continue
		}
		got := planrun(t, "report", jsons[0], "--format", format)
		if got.stdout != string(want) {
			t.Errorf("%s file differs from `report --format %s`\n%s", ext, format, firstDiff(string(want), got.stdout))
		}
	}
}

// TestJUnitIncompleteRun: a run that did not complete has a `run` suite with
// one <error>, so CI never sees a green report for a run that did not happen.
func TestJUnitIncompleteRun(t *testing.T) {
	for _, tt := range []struct {
		name string
		plan string
		dsn  func(t *testing.T) string
		want int
	}{
		{"unreachable", "approved", func(t *testing.T) string {
			return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", closedPort(t))
		}, ExitCouldNotRun},
		{"aborted", "abort", func(t *testing.T) string { return localpgtest.DSN(t) }, ExitAborted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", tt.dsn(t))
			r := planrun(t, plan(tt.plan), "--format", "junit", "--quiet")
			if r.code != tt.want {
				t.Fatalf("want exit %d, got %s", tt.want, r)
			}
			var doc junitDoc
			if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("not well-formed XML: %v\n%s", err, r.stdout)
			}
			if doc.Errors+doc.Failures == 0 {
				t.Errorf("an incomplete run gives a green JUnit report: tests=%d failures=%d errors=%d", doc.Tests, doc.Failures, doc.Errors)
			}
			found := false
			for _, s := range doc.Suites {
				if s.Name == "run" {
					found = s.Tests == 1 && s.Errors == 1 && len(s.Cases) == 1 && s.Cases[0].Error != nil
				}
			}
			if !found {
				t.Errorf("no `run` suite with one <error> test case:\n%s", r.stdout)
			}
		})
	}
}

// The output-injection attack: names and a server message that tried to
// break out of markdown code spans into HTML, and to colour, ring or erase
// on the terminal.
const (
	// hostileName is what testdata/hostile_*.yaml put after "ok", "sc", "op"
	// and "as" (YAML escapes \e \0 \a \b).
	hostileName = "``</details><h1>x</h1>\x1b[31m\x00\a\b\u202e\u2028"
	// hostileMessage is the message of the RAISE EXCEPTION in those plans.
	hostileMessage = "``</details><h1>pwn</h1>\x1b[31m\a\b"
)

// controlAt returns the index of the first control character in s other
// than newline and tab (C0, DEL, C1, or a byte that is not UTF-8), or -1.
func controlAt(s string) int {
	for i, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) ||
			r == 0x61c || r == 0x200e || r == 0x200f || (r >= 0x2028 && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) { // bidi, line separators
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

// reportHTML is the only HTML the markdown report writes itself.
var reportHTML = regexp.MustCompile(`^(<details><summary>[^<>]*</summary>|</details>)\n?$`)

// checkMarkdown reads md as GitHub would (goldmark): no HTML but the
// report's own <details> blocks, no control character, and every one of
// shown on screen as text or code, on one line with visible escapes.
func checkMarkdown(t *testing.T, what, md string, shown ...string) {
	t.Helper()
	noControl(t, what, md)
	doc, err := markdowntest.Parse(md)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, h := range doc.HTML {
		if !reportHTML.MatchString(h) {
			t.Errorf("%s: raw HTML from the run: %q", what, h)
		}
	}
	for _, s := range shown {
		if s = markdown.OneLine(s); !strings.Contains(doc.Visible, s) {
			t.Errorf("%s: the reader does not see %q", what, s)
		}
	}
}

// TestHostileNames runs the attack's plan (hostile plan, scenario,
// operation and assertion names, and an operation whose server error
// carries HTML and ANSI colour) against a real server, not --quiet: the
// table on stdout, the progress and log lines on stderr, the markdown and
// JUnit files and the job summary hold no control character and no HTML,
// and show the names escaped.
func TestHostileNames(t *testing.T) {
	useDB(t)
	out := t.TempDir()
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	r := planrun(t, plan("hostile_names"), "--out", out)
	if r.code != ExitApproved && r.code != ExitNotApproved {
		t.Fatalf("want a verdict (exit 0 or 1), got %s", r)
	}
	escaped := printable.String(hostileName) // as the table, JUnit and stderr show it

	noControl(t, "stdout (table)", r.stdout)
	for _, prefix := range []string{"ok", "sc", "as"} { // the table shows no operation names
		if !strings.Contains(r.stdout, prefix+escaped) {
			t.Errorf("the table does not show %q", prefix+escaped)
		}
	}
	if !strings.Contains(r.stdout, printable.String(hostileMessage)) {
		t.Errorf("the table does not show the server error %q", printable.String(hostileMessage))
	}
	noControl(t, "stderr (progress and log lines)", r.stderr)
	if !strings.Contains(r.stderr, "planrun: scenario sc"+escaped) {
		t.Errorf("stderr lacks the log lines of scenario %q:\n%s", "sc"+escaped, r.stderr)
	}

	md := readOne(t, out, "*.md")
	checkMarkdown(t, ".md", md, "ok"+hostileName, "sc"+hostileName, "op"+hostileName, "as"+hostileName, hostileMessage)
	sum, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("GITHUB_STEP_SUMMARY was not written: %v", err)
	}
	checkMarkdown(t, "GITHUB_STEP_SUMMARY", string(sum), "ok"+hostileName, "sc"+hostileName, hostileMessage)

	noControl(t, ".html", readOne(t, out, "*.html"))
	xmlText := readOne(t, out, "*.xml")
	noControl(t, ".xml", xmlText)
	var doc junitDoc
	if err := xml.Unmarshal([]byte(xmlText), &doc); err != nil {
		t.Fatalf("the JUnit file is not well-formed XML: %v\n%s", err, xmlText)
	}
	if doc.Name != "ok"+escaped {
		t.Errorf("testsuites name %q, want %q", doc.Name, "ok"+escaped)
	}
}

// TestHostileSetupError: a setup statement whose server error carries HTML
// and ANSI colour fails the run (exit 3); the markdown on stdout, the files
// and the job summary show the message as text, with no HTML and no control
// character.
func TestHostileSetupError(t *testing.T) {
	useDB(t)
	out := t.TempDir()
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	r := planrun(t, plan("hostile_setup"), "--format", "markdown", "--out", out)
	if r.code != ExitCouldNotRun {
		t.Fatalf("want exit 3, got %s", r)
	}
	checkMarkdown(t, "stdout (markdown)", r.stdout, hostileMessage)
	sum, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("GITHUB_STEP_SUMMARY was not written: %v", err)
	}
	checkMarkdown(t, "GITHUB_STEP_SUMMARY", string(sum), hostileMessage)
	checkMarkdown(t, ".md", readOne(t, out, "*.md"), hostileMessage)

	xmlText := readOne(t, out, "*.xml")
	noControl(t, ".xml", xmlText)
	if err := xml.Unmarshal([]byte(xmlText), new(junitDoc)); err != nil {
		t.Fatalf("the JUnit file is not well-formed XML: %v\n%s", err, xmlText)
	}
	if !strings.Contains(xmlText, printable.String(hostileMessage)[len("``"):]) {
		t.Errorf("the JUnit file does not show the server error:\n%s", xmlText)
	}
	// The log lines on stderr; the closing "planrun: setup failed: …" comes
	// from exitCode, not from the logger.
	logged, _, _ := strings.Cut(r.stderr, "planrun: setup failed:")
	noControl(t, "stderr log lines", logged)
}

// TestProgressAndLogEscapes: a scenario name or a server message with
// control characters shows escaped in the live progress line (plain and
// terminal) and in the log lines.
func TestProgressAndLogEscapes(t *testing.T) {
	name := "sc" + hostileName + "\r\n\t"
	for _, tty := range []bool{false, true} {
		var buf strings.Builder
		newProgressPrinter(&buf, tty).Live(&live.Snapshot{Scenario: &results.Scenario{Name: name, Elapsed: time.Second, Planned: 2 * time.Second}})
		logger(&buf, false, tty)("scenario %s: %s", name, hostileMessage)
		got := buf.String()
		if tty { // the printer's own: return, then erase the line
			got = strings.ReplaceAll(got, "\r\033[K", "")
		}
		noControl(t, fmt.Sprintf("progress and log (tty %t)", tty), got)
		if want := printable.Line(name) + " 00:01/00:02"; !strings.Contains(got, want) {
			t.Errorf("tty %t: the progress line does not show %q:\n%q", tty, want, got)
		}
		if want := "planrun: scenario " + printable.String(name) + ": " + printable.String(hostileMessage) + "\n"; !strings.Contains(got, want) {
			t.Errorf("tty %t: the log line is not %q:\n%q", tty, want, got)
		}
	}
}

// readOne reads the one file in dir that matches pattern.
func readOne(t *testing.T, dir, pattern string) string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(paths) != 1 {
		t.Fatalf("want one %s in %s, got %q", pattern, dir, paths)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
