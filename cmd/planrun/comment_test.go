package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/internal/github/githubtest"
	"github.com/planrun/planrun/results"
)

const commentToken = "ghs_comment-test-token"

// fakeGitHub starts the fake API for acme/shop under /api/v3 (as GitHub
// Enterprise Server has it), points the GITHUB_* variables at it with an
// event for pull request pr (0: a push event), and records the waits
// between retries instead of sleeping them.
func fakeGitHub(t *testing.T, pr int) (*githubtest.Server, *[]time.Duration) {
	t.Helper()
	srv := githubtest.New(t, commentToken, "acme", "shop", "/api/v3")
	event := `{"ref": "refs/heads/main", "head_commit": {"id": "abc"}}`
	if pr > 0 {
		event = fmt.Sprintf(`{"action": "synchronize", "number": %d, "pull_request": {"number": %d, "head": {"ref": "feature"}}}`, pr, pr)
	}
	evPath := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(evPath, []byte(event), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"GITHUB_API_URL": srv.APIURL(), "GITHUB_TOKEN": commentToken, "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_EVENT_PATH": evPath, "GITHUB_SERVER_URL": "", "GITHUB_RUN_ID": "",
	} {
		t.Setenv(k, v)
	}
	var waits []time.Duration
	commentSleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	t.Cleanup(func() { commentSleep = nil })
	return srv, &waits
}

// posts counts the requests of a method.
func posts(srv *githubtest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// TestCommentCreateThenUpdate: the first run creates the comment, the
// second finds it on page 2 of the listing and updates the same one; the
// body is the marker, the report `planrun report --format markdown` gives,
// and the link to the full reports.
func TestCommentCreateThenUpdate(t *testing.T) {
	srv, waits := fakeGitHub(t, 42)
	srv.PageSize = 2
	srv.Add(42, "alice", "first review")
	srv.Add(42, "bob", "<!-- planrun:other-plan -->\nanother plan's comment")
	srv.Add(41, "alice", "another pull request")
	path := savedRun(t, "smoke", nil, true)
	const artifact = "https://github.com/acme/shop/actions/runs/99/artifacts/7"

	r := planrun(t, "comment", path, "--artifact-url", artifact)
	if r.code != ExitApproved || !strings.Contains(r.stdout, "created the comment on #42") {
		t.Fatalf("first run: %s", r)
	}
	ours := srv.Comments(42)[2]
	want := "<!-- planrun:smoke -->\n" + strings.TrimRight(planrun(t, "report", path, "--format", "markdown").stdout, "\n") +
		"\n\nFull reports: " + artifact + "\n"
	if ours.Body != want {
		t.Errorf("body differs from the marker, the markdown report and the link at %s", firstDiff(ours.Body, want))
	}

	srv.Add(42, "carol", "a reply")
	srv.Add(42, "dave", "and another")
	r = planrun(t, "comment", "--name", "smoke", path, "--artifact-url", artifact+"8")
	if r.code != ExitApproved || !strings.Contains(r.stdout, "updated the comment on #42") {
		t.Fatalf("second run: %s", r)
	}
	got := srv.Comments(42)
	if len(got) != 5 || got[2].ID != ours.ID || !strings.HasSuffix(got[2].Body, artifact+"8\n") {
		t.Errorf("want comment %d updated in place among 5, got %+v", ours.ID, got)
	}
	if posts(srv, http.MethodPost) != 1 || posts(srv, http.MethodPatch) != 1 {
		t.Errorf("want one POST and one PATCH, got %+v", srv.Requests())
	}
	pages := map[string]bool{}
	for _, req := range srv.Requests() {
		if req.Method == http.MethodGet {
			if req.Path != "/api/v3/repos/acme/shop/issues/42/comments" {
				t.Errorf("listed %s", req.Path)
			}
			q, _ := url.ParseQuery(req.Query)
			pages[q.Get("page")] = true
		}
		if req.Method == http.MethodPatch && req.Path != "/api/v3/repos/acme/shop/issues/comments/"+strconv.FormatInt(ours.ID, 10) {
			t.Errorf("patched %s", req.Path)
		}
	}
	if !pages["2"] || !pages["3"] {
		t.Errorf("want pages 2 and 3 listed through the Link header, got %v", pages)
	}
	if len(*waits) != 0 {
		t.Errorf("waited %v without a fault", *waits)
	}
}

// TestCommentForbidden: a fork's read-only token is said in one line and
// survived (exit 0); nothing is posted.
func TestCommentForbidden(t *testing.T) {
	srv, _ := fakeGitHub(t, 7)
	srv.Fail(githubtest.Fault{Method: "POST", Status: 403, Message: "Resource not accessible by integration"})
	r := planrun(t, "comment", savedRun(t, "smoke", nil, false))
	if r.code != ExitApproved || strings.TrimSpace(r.stderr) != forbiddenLine {
		t.Fatalf("want exit 0 and the one line %q, got %s", forbiddenLine, r)
	}
	if len(srv.Comments(7)) != 0 || posts(srv, http.MethodPost) != 1 {
		t.Errorf("want one refused POST and no comment, got %+v", srv.Requests())
	}
}

// TestCommentRetries502: a 502 on the create is retried (after listing
// again: the first POST might have gone through) and the comment posted once.
func TestCommentRetries502(t *testing.T) {
	for _, applied := range []bool{false, true} {
		t.Run(fmt.Sprintf("created anyway %v", applied), func(t *testing.T) {
			srv, waits := fakeGitHub(t, 7)
			srv.Fail(githubtest.Fault{Method: "POST", Status: 502, Message: "Server Error", Apply: applied})
			r := planrun(t, "comment", savedRun(t, "smoke", nil, true))
			if r.code != ExitApproved {
				t.Fatalf("want exit 0 after the retry, got %s", r)
			}
			if len(srv.Comments(7)) != 1 || len(*waits) != 1 {
				t.Errorf("want one comment after one wait, got %d comments, waits %v", len(srv.Comments(7)), *waits)
			}
			wantPosts := 2
			if applied {
				wantPosts = 1 // found by the second listing, then updated
			}
			if n := posts(srv, http.MethodPost); n != wantPosts {
				t.Errorf("%d POSTs, want %d", n, wantPosts)
			}
		})
	}
}

// TestCommentFailures: what cannot be posted exits 1 with a line that says
// what to do; no token or secret in it.
func TestCommentFailures(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, srv *githubtest.Server)
		saying string
	}{
		{"no token", func(t *testing.T, _ *githubtest.Server) { t.Setenv("GITHUB_TOKEN", "") }, "GITHUB_TOKEN is not set"},
		{"no repository", func(t *testing.T, _ *githubtest.Server) { t.Setenv("GITHUB_REPOSITORY", "") }, "GITHUB_REPOSITORY is not set"},
		{"no event", func(t *testing.T, _ *githubtest.Server) { t.Setenv("GITHUB_EVENT_PATH", "") }, "GITHUB_EVENT_PATH is not set"},
		{"server errors after retries", func(t *testing.T, srv *githubtest.Server) {
			for range 5 {
				srv.Fail(githubtest.Fault{Method: "GET", Status: 503, Message: "Service Unavailable"})
			}
		}, "503 Service Unavailable: GitHub's API"},
		{"unreachable", func(t *testing.T, _ *githubtest.Server) {
			t.Setenv("GITHUB_API_URL", fmt.Sprintf("http://127.0.0.1:%d", closedPort(t)))
		}, "did not take the comment; rerun the job"},
		{"wrong repository", func(t *testing.T, _ *githubtest.Server) { t.Setenv("GITHUB_REPOSITORY", "acme/other") }, "check GITHUB_REPOSITORY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeGitHub(t, 7)
			tt.setup(t, srv)
			r := planrun(t, "comment", savedRun(t, "smoke", nil, true))
			if r.code != ExitNotApproved || !strings.Contains(r.stderr, tt.saying) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("want exit 1 and one line saying %q, got %s", tt.saying, r)
			}
			if strings.Contains(r.stderr, commentToken) {
				t.Errorf("the token is printed: %s", r.stderr)
			}
		})
	}
}

// TestCommentNotAPullRequest: a push event posts nothing and says so; an
// issue_comment event counts only on a pull request.
func TestCommentNotAPullRequest(t *testing.T) {
	srv, _ := fakeGitHub(t, 0)
	path := savedRun(t, "smoke", nil, true)
	r := planrun(t, "comment", path)
	if r.code != ExitApproved || strings.TrimSpace(r.stdout) != notPRLine {
		t.Fatalf("want exit 0 and %q, got %s", notPRLine, r)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("want no request, got %d", n)
	}

	tests := []struct {
		name, event string
		number      int
		isPR        bool
	}{
		{"pull_request", `{"pull_request": {"number": 12}}`, 12, true},
		{"pull_request_target", `{"action": "opened", "number": 13, "pull_request": {"number": 13}}`, 13, true},
		{"issue_comment on a pull request", `{"issue": {"number": 14, "pull_request": {"url": "x"}}, "comment": {"id": 1}}`, 14, true},
		{"issue_comment on an issue", `{"issue": {"number": 15}, "comment": {"id": 1}}`, 0, false},
		{"push", `{"ref": "refs/heads/main"}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "event.json")
			if err := os.WriteFile(p, []byte(tt.event), 0o644); err != nil {
				t.Fatal(err)
			}
			n, isPR, err := pullRequestNumber(p)
			if err != nil || n != tt.number || isPR != tt.isPR {
				t.Errorf("got #%d pr=%v err=%v, want #%d pr=%v", n, isPR, err, tt.number, tt.isPR)
			}
		})
	}
}

// bigRun writes a run whose markdown report is far over GitHub's limit:
// many scenarios (a long table first), each with a long time series and
// many assertions.
func bigRun(t *testing.T, dir, name string, secretURL string) string {
	t.Helper()
	start := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	run := &results.Run{
		SchemaVersion: results.SchemaVersion, PlanrunVersion: "test",
		Plan:      results.PlanInfo{Name: name, File: name + ".yaml"},
		Target:    results.Target{URL: secretURL},
		StartedAt: start, FinishedAt: start.Add(time.Minute),
		Verdict: results.Verdict{Pass: true, Label: "APPROVED FOR PRODUCTION"},
		Status:  results.StatusCompleted, TimeScale: 1,
	}
	for i := range 40 {
		sc := results.Scenario{Name: fmt.Sprintf("scenario-%02d-with-a-rather-long-name", i), Status: results.StatusCompleted, MaxUsers: 10, Ops: 1000, Throughput: 100, SuccessRate: 1}
		run.Scenarios = append(run.Scenarios, sc)
		for j := range 30 {
			run.Assertions = append(run.Assertions, results.Outcome{
				Name:  fmt.Sprintf("assertion %d of scenario %d, whose name is long enough to fill the table", j, i),
				Check: "ops > 0", Scenario: sc.Name, Severity: results.SeverityCritical, Status: results.OutcomePass, Actual: "ops = 1,000",
			})
		}
	}
	data, err := json.MarshalIndent(run, "", "  ") // as written, not redacted: a report from elsewhere
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCommentOversized: a report past the limit is cut at a section
// boundary with the pointer to the artifact, and posted whole within the
// limit; the password of the report's target URL is nowhere in it.
func TestCommentOversized(t *testing.T) {
	srv, _ := fakeGitHub(t, 9)
	const secret = "Sup3r-s3cret-pw"
	dir := t.TempDir()
	path := bigRun(t, dir, "big", "postgres://app:"+secret+"@db.internal:5432/shop")
	base := bigRun(t, t.TempDir(), "big", "postgres://app:"+secret+"@db.internal:5432/shop")
	const artifact = "https://github.com/acme/shop/actions/runs/1/artifacts/2"
	full := planrun(t, "report", path, "--format", "markdown").stdout
	if len(full) <= commentLimit {
		t.Fatalf("the test's report is only %d bytes: not over the limit", len(full))
	}
	r := planrun(t, "comment", path, "--baseline", base, "--artifact-url", artifact, "--name", "big-pr")
	if r.code != ExitApproved {
		t.Fatalf("%s", r)
	}
	body := srv.Comments(9)[0].Body
	if len(body) > commentLimit {
		t.Errorf("body is %d bytes, over %d", len(body), commentLimit)
	}
	if strings.Contains(body, secret) {
		t.Errorf("the password is in the comment:\n%s", excerpt(body, secret))
	}
	pointer := regexp.MustCompile(`\n… cut at ([0-9]+) of ([0-9]+) characters; the full report is in the artifact: ` + regexp.QuoteMeta(artifact) + "\n$")
	m := pointer.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no pointer at the end:\n%s", body[max(0, len(body)-300):])
	}
	kept := strings.TrimSuffix(body[:len(body)-len(m[0])], "\n")
	if !strings.HasPrefix(kept, "<!-- planrun:big-pr -->\n### Against the baseline\n") {
		t.Errorf("the comparison does not come first:\n%.300s", kept)
	}
	// What was cut off starts with a heading or a folded block of the report.
	rest, ok := strings.CutPrefix(full, kept[strings.Index(kept, "## ✅"):])
	if !ok {
		t.Fatalf("the kept part is not the report's beginning")
	}
	next := strings.SplitN(strings.TrimLeft(rest, "\n"), "\n", 2)[0]
	if !strings.HasPrefix(next, "#") && !strings.HasPrefix(next, "<details>") {
		t.Errorf("cut before %q, not a section", next)
	}
	if n, _ := strconv.Atoi(m[1]); n != len([]rune(kept))+1 && n != len([]rune(kept)) {
		t.Errorf("the pointer says %s characters kept, the body keeps %d", m[1], len([]rune(kept)))
	}
	t.Logf("report %d bytes; comment %d bytes, cut before %q: %s", len(full), len(body), next, strings.TrimSpace(m[0]))
}

// TestCommentNoPasswordFromARealRun: a run against the test server through
// a URL with a password; its JSON report, posted with itself as the
// baseline, carries the password nowhere into the comment.
func TestCommentNoPasswordFromARealRun(t *testing.T) {
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
	t.Setenv("DATABASE_URL", u.String())
	out := t.TempDir()
	if r := planrun(t, plan("approved"), "--quiet", "--out", out); r.code != ExitApproved {
		t.Fatalf("the run: %s", r)
	}
	paths, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(paths) != 1 {
		t.Fatalf("want one JSON report, got %q", paths)
	}
	path := paths[0]
	if strings.Contains(readOne(t, out, "*.json"), secret) {
		t.Fatalf("the JSON report holds the password")
	}
	srv, _ := fakeGitHub(t, 3)
	r := planrun(t, "comment", path, "--baseline", path)
	if r.code != ExitApproved {
		t.Fatalf("%s", r)
	}
	body := srv.Comments(3)[0].Body
	for _, s := range []string{body, r.stdout, r.stderr} {
		if strings.Contains(s, secret) {
			t.Errorf("the password is out:\n%s", excerpt(s, secret))
		}
	}
	if !strings.HasPrefix(body, "<!-- planrun:approved -->\n### Against the baseline\n") || !strings.Contains(body, "## ✅ APPROVED FOR PRODUCTION — approved") {
		t.Errorf("not the marker, comparison and report:\n%.400s", body)
	}
	if !strings.Contains(body, "`"+u.Scheme+"://"+u.User.Username()+":xxxxx@") {
		t.Errorf("the target is not shown with its password masked:\n%.600s", body)
	}
}

// TestCommentMarker: the marker keeps a name to characters that cannot end
// the HTML comment.
func TestCommentMarker(t *testing.T) {
	tests := []struct{ name, plan, want string }{
		{"", "production", "<!-- planrun:production -->"},
		{"smoke-pr", "production", "<!-- planrun:smoke-pr -->"},
		{"", "a plan --> <script>", "<!-- planrun:a_plan_-_script_ -->"},
		{"", "---", "<!-- planrun:report -->"},
		{"nightly/v2.1@eu", "", "<!-- planrun:nightly/v2.1@eu -->"},
	}
	for _, tt := range tests {
		if got := commentMarker(tt.name, tt.plan); got != tt.want {
			t.Errorf("commentMarker(%q, %q) = %q, want %q", tt.name, tt.plan, got, tt.want)
		}
	}
}

// TestCommentFit: the cut falls at the last section boundary that fits,
// never inside a table, a code fence (a chart) or a folded block.
func TestCommentFit(t *testing.T) {
	table := func(rows int) string {
		var b strings.Builder
		b.WriteString("| a | b |\n|---|---|\n")
		for i := range rows {
			fmt.Fprintf(&b, "| %d | row |\n", i)
		}
		return b.String() + "\n"
	}
	chart := func(points int) string {
		var b strings.Builder
		b.WriteString("```mermaid\n---\nconfig:\n---\nxychart-beta\n\n# not a heading\n\n  line [")
		for i := range points {
			fmt.Fprintf(&b, "%d, ", i)
		}
		return b.String() + "0]\n```\n\n"
	}
	const marker = "<!-- planrun:x -->\n"
	tests := []struct {
		name  string
		text  string
		limit int
		link  string
		// before is the text the cut must fall just before ("" when the
		// text fits, "$marker" for only the marker kept).
		before string
	}{
		{"fits", marker + "## A\n\ntext\n", 1000, "", ""},
		{"before the heading whose table does not fit", marker + "## A\n\nshort\n\n### B\n\n" + table(200), 1000, "https://x/y", "### B"},
		{"the last heading that fits", marker + "## A\n\n" + table(3) + "### B\n\n" + table(3) + "### C\n\n" + table(300), 1000, "https://x/y", "### C"},
		{"not inside a chart", marker + "## A\n\n### Over time\n\n" + chart(400) + "<details><summary>S</summary>\n\n" + table(3) + "</details>\n\n", 1000, "", "### Over time"},
		{"before a folded block, not inside it", marker + "## A\n\ntext\n\n<details><summary>S</summary>\n\n### inner\n\n" + table(300) + "</details>\n\n", 1000, "", "<details>"},
		{"a paragraph when no heading fits", marker + "## A\n\nfirst paragraph\n\n" + table(3) + "second\n\n" + table(300), 1000, "", "| a | b |\n|---|---|\n| 0 | row |\n| 1 | row |\n| 2 | row |\n| 3 | row |"},
		{"only the marker when nothing fits", marker + "## A\n" + table(300), 1000, "", "$marker"},
		{"a fence with ~~~ and a longer closing", marker + "## A\n\n~~~~\n## inside\n~~~\n## still inside\n~~~~~\n\n### B\n\n" + table(300), 1000, "", "### B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fitComment(tt.text, tt.limit, tt.link)
			if tt.before == "" {
				if got != tt.text {
					t.Errorf("a text that fits was changed")
				}
				return
			}
			if len(got) > tt.limit {
				t.Errorf("%d bytes, over the limit %d", len(got), tt.limit)
			}
			where := "the job's step summary"
			if tt.link != "" {
				where = "the artifact: " + tt.link
			}
			m := regexp.MustCompile(`\n… cut at ([0-9]+) of ([0-9]+) characters; the full report is in ` + regexp.QuoteMeta(where) + "\n$").FindStringSubmatch(got)
			if m == nil {
				t.Fatalf("no pointer line at the end:\n%s", got)
			}
			kept := got[:len(got)-len(m[0])]
			if m[1] != strconv.Itoa(len([]rune(kept))) || m[2] != strconv.Itoa(len([]rune(tt.text))) {
				t.Errorf("pointer %q for %d of %d characters", m[0], len([]rune(kept)), len([]rune(tt.text)))
			}
			if !strings.HasPrefix(tt.text, kept) {
				t.Fatalf("the kept part is not the text's beginning")
			}
			rest := tt.text[len(kept):]
			want := tt.before
			if want == "$marker" {
				want = "## A"
				if kept != marker {
					t.Errorf("kept %q, want the marker alone", kept)
				}
			}
			if !strings.HasPrefix(rest, want) {
				t.Errorf("cut before %.40q, want before %q", rest, want)
			}
		})
	}
	t.Run("a first line over the limit", func(t *testing.T) {
		text := strings.Repeat("é", 600) + "\n## A\n"
		got := fitComment(text, 500, "")
		if len(got) > 500 || !strings.Contains(got, "… cut at ") {
			t.Errorf("%d bytes: %q", len(got), got)
		}
	})
}
