package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/internal/github"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// commentLimit is GitHub's limit on a comment's body: 65,536 characters.
// planrun counts bytes against it, which is safe (a character is one byte
// or more).
const commentLimit = 65_536

// commentTimeout bounds the whole of `planrun comment`'s talk with the API,
// retries included.
const commentTimeout = 5 * time.Minute

// commentSleep, when set (by tests), replaces the wait between the GitHub
// client's retries.
var commentSleep func(ctx context.Context, d time.Duration) error

// forbiddenLine is what `planrun comment` says when the token may not
// comment (exit 0: the job is not failed for it).
const forbiddenLine = "planrun comment: the token may not comment on this pull request (a fork's read-only token?): the report stays in the step summary"

// notPRLine is what it says for an event that is no pull request (exit 0).
const notPRLine = "planrun comment: not a pull request event; nothing posted"

// commentUsage heads `planrun comment --help`; [printFlags] lists the flags.
const commentUsage = `usage: planrun comment RUN.json [flags]

Posts the run's markdown report as one comment on the pull request of the
GitHub Actions event, or updates the comment an earlier run posted (found by
its hidden <!-- planrun:NAME --> line). Reads GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_API_URL (default https://api.github.com) and GITHUB_EVENT_PATH.
Exit 0 when posted, when the event is no pull request, and when the token may
not comment (a fork's); 1 when it could not post; 2 for usage (docs/ci.md).

Comment flags:
`

// cmdComment posts or updates the sticky pull-request comment of a saved
// run (docs/ci.md). Exit 0 when posted, when there is nothing to post (not
// a pull request event) and when the token may not comment (a fork's
// read-only token: the step summary keeps the report); 1 when the comment
// could not be posted (environment, network, the API); 2 for usage or an
// unreadable report.
func cmdComment(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("planrun comment", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, commentUsage)
		printFlags(stderr, fs)
	}
	baseline := fs.String("baseline", "", "an earlier run `BASE.json` of the plan: the comparison with it (regressions first) heads the comment")
	name := fs.String("name", "", "the comment's marker `NAME`, one comment per name and pull request (default: the run's plan name)")
	artifactURL := fs.String("artifact-url", "", "`URL` of the full reports, linked at the end and when the comment is cut (default: the workflow run's page, from GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID)")
	eventPath := fs.String("event", "", "the event `PATH` (default $GITHUB_EVENT_PATH)")
	dryRun := fs.Bool("dry-run", false, "print the comment's body to stdout; post nothing (no token or event needed)")
	path, ok := oneArg(fs, args, stderr, "comment takes exactly one JSON report: planrun comment RUN.json")
	if !ok {
		return ExitUsage
	}
	budget := results.NewBudget() // reports from elsewhere are untrusted input
	run, err := budget.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "planrun comment: %v\n", err)
		return ExitUsage
	}
	var base *results.Run
	if *baseline != "" {
		if base, err = budget.ReadFile(*baseline); err != nil {
			fmt.Fprintf(stderr, "planrun comment: --baseline: %v\n", err)
			return ExitUsage
		}
	}
	link := *artifactURL
	if link == "" {
		link = runPageURL(os.Getenv)
	} else if err := checkLink(link); err != nil {
		fmt.Fprintf(stderr, "planrun comment: --artifact-url: %v\n", err)
		return ExitUsage
	}
	// Redacted before anything reads it: the markdown renderer redacts
	// again, compare does not (its changes name the target).
	run = report.Redact(run, nil)
	base = report.Redact(base, nil)
	marker := commentMarker(*name, run.Plan.Name)
	body, err := commentBody(marker, run, base, link)
	if err != nil {
		fmt.Fprintf(stderr, "planrun comment: %v\n", err)
		return ExitUsage
	}
	if *dryRun {
		fmt.Fprint(stdout, body)
		return ExitApproved
	}

	evPath := *eventPath
	if evPath == "" {
		evPath = os.Getenv("GITHUB_EVENT_PATH")
	}
	if evPath == "" {
		fmt.Fprintln(stderr, "planrun comment: no event: GITHUB_EVENT_PATH is not set; run it in a GitHub Actions step or pass --event PATH")
		return ExitNotApproved
	}
	number, isPR, err := pullRequestNumber(evPath)
	if err != nil {
		fmt.Fprintf(stderr, "planrun comment: %v\n", err)
		return ExitNotApproved
	}
	if !isPR {
		fmt.Fprintln(stdout, notPRLine)
		return ExitApproved
	}
	client, err := github.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "planrun comment: %v: set them in the step's env (GITHUB_TOKEN: ${{ github.token }}, with permissions pull-requests: write)\n", err)
		return ExitNotApproved
	}
	client.Sleep = commentSleep

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, commentTimeout)
	defer cancel()
	c, created, err := client.Upsert(ctx, number, marker, body)
	switch {
	case errors.Is(err, github.ErrForbidden):
		fmt.Fprintln(stderr, forbiddenLine)
		return ExitApproved
	case errors.Is(err, github.ErrUnauthorized):
		fmt.Fprintf(stderr, "planrun comment: %v: the token was refused; check GITHUB_TOKEN\n", err)
		return ExitNotApproved
	case errors.Is(err, github.ErrNotFound):
		fmt.Fprintf(stderr, "planrun comment: %v: check GITHUB_REPOSITORY (%s) and GITHUB_API_URL (%s), and that the token can see the repository\n", err, os.Getenv("GITHUB_REPOSITORY"), client.BaseURL)
		return ExitNotApproved
	case err != nil:
		fmt.Fprintf(stderr, "planrun comment: %v: GitHub's API (%s) did not take the comment; rerun the job, or read the report in the step summary\n", err, client.BaseURL)
		return ExitNotApproved
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(stdout, "planrun comment: %s the comment on #%d: %s\n", verb, number, printable.Line(c.HTMLURL))
	return ExitApproved
}

// commentMarker is the hidden first line that finds the comment again:
// <!-- planrun:NAME -->, NAME being name or else the plan's name, kept to
// letters, digits and . _ - : / @ + (anything else becomes _; a run of - or
// _ is one, so that nothing ends the HTML comment early).
func commentMarker(name, plan string) string {
	if name == "" {
		name = plan
	}
	var b strings.Builder
	var last rune
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._:/@+", r):
		case r == '-' || r == '_':
			if last == r {
				continue
			}
		default:
			if last == '_' {
				continue
			}
			r = '_'
		}
		b.WriteRune(r)
		last = r
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "report"
	}
	return "<!-- planrun:" + s + " -->"
}

// commentBody is the marker line, the comparison with base when there is
// one, the run's markdown report, and a link to the full reports, cut to
// GitHub's limit (see [fitComment]).
func commentBody(marker string, run, base *results.Run, link string) (string, error) {
	var b bytes.Buffer
	b.WriteString(marker + "\n")
	if base != nil {
		c := compare.Baselines([]*results.Run{base}, run, compare.Options{})
		b.WriteString("### Against the baseline\n\n")
		if !base.StartedAt.IsZero() {
			fmt.Fprintf(&b, "%s\n\n", markdown.Text("Baseline: the run of "+base.StartedAt.UTC().Format("2006-01-02 15:04 MST")+
				" (planrun "+orDash(base.PlanrunVersion)+")."))
		}
		var cb strings.Builder
		if err := c.Markdown(&cb); err != nil {
			return "", err
		}
		b.WriteString(strings.TrimRight(cb.String(), "\n") + "\n\n")
	}
	if err := report.Markdown(&b, run); err != nil {
		return "", err
	}
	text := strings.TrimRight(b.String(), "\n") + "\n"
	footer := ""
	if link != "" {
		footer = "\nFull reports: " + link + "\n"
	}
	if len(text)+len(footer) <= commentLimit {
		return text + footer, nil
	}
	return fitComment(text, commentLimit, link), nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// fitComment returns text when it fits in limit bytes, otherwise text cut
// at a section boundary and a final line pointing at the full report:
// "… cut at N of M characters; the full report is in the artifact: URL".
// The first line (the marker) is always kept. A section boundary is the
// start of a heading line or of a folded <details> block, outside any code
// fence (a mermaid chart is one) and any <details> block; the last one that
// fits is taken, unless it would keep less than half the room and a later
// paragraph boundary fits (the start of a block after a blank line, outside
// fences and details, not the first block under a heading). When neither
// fits, only the first line is kept. So a cut never falls inside a table, a
// code fence or a chart, nor between a heading and its first block.
func fitComment(text string, limit int, link string) string {
	if len(text) <= limit {
		return text
	}
	total := utf8.RuneCountInString(text)
	pointer := func(kept int) string {
		where := "the job's step summary"
		if link != "" {
			where = "the artifact: " + link
		}
		return fmt.Sprintf("\n… cut at %d of %d characters; the full report is in %s\n", kept, total, where)
	}
	room := limit - len(pointer(total)) - 1 // the longest pointer (kept ≤ total), and a newline
	first := strings.IndexByte(text, '\n') + 1
	if first == 0 {
		first = len(text)
	}
	cut := first
	section, paragraph := boundaries(text, first, room)
	switch {
	case section > 0 && (section >= room/2 || paragraph <= section):
		cut = section
	case paragraph > 0:
		cut = paragraph
	}
	if cut > room { // the first line alone does not fit: cut it at a character
		cut = max(0, room)
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
	}
	kept := text[:cut]
	if !strings.HasSuffix(kept, "\n") {
		kept += "\n"
	}
	return kept + pointer(utf8.RuneCountInString(text[:cut]))
}

// boundaries scans text's lines from byte from on and returns the last
// section boundary and the last paragraph boundary (byte offsets of line
// starts, see [fitComment]) at or before room; 0 for none.
func boundaries(text string, from, room int) (section, paragraph int) {
	var fence string // the open fence's marker (``` or ~~~, as long as it was)
	depth := 0       // <details> blocks open
	prevBlank := false
	afterHeading := false // no block yet under the last heading
	for off := from; off < len(text) && off <= room; {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off + 1
		}
		line := strings.TrimRight(text[off:end], "\r\n")
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		switch {
		case fence != "":
			if indent < 4 && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
				fence = ""
			}
		case indent < 4 && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			if depth == 0 && prevBlank && !afterHeading {
				paragraph = off
			}
			n := len(trimmed) - len(strings.TrimLeft(trimmed, trimmed[:1]))
			fence = trimmed[:n]
		case strings.HasPrefix(trimmed, "<details"):
			if depth == 0 {
				section = off
			}
			depth++
		case strings.HasPrefix(trimmed, "</details>"):
			depth = max(0, depth-1)
		case depth == 0 && indent < 4 && isHeading(trimmed):
			section = off
		case depth == 0 && prevBlank && trimmed != "" && !afterHeading:
			paragraph = off
		}
		blank := strings.TrimSpace(line) == ""
		if !blank {
			afterHeading = fence == "" && depth == 0 && indent < 4 && isHeading(trimmed)
		}
		prevBlank = fence == "" && blank
		off = end
	}
	return section, paragraph
}

// isHeading: an ATX heading, 1 to 6 #s then a space or the line's end.
func isHeading(line string) bool {
	n := len(line) - len(strings.TrimLeft(line, "#"))
	return n >= 1 && n <= 6 && (len(line) == n || line[n] == ' ' || line[n] == '\t')
}

// pullRequestNumber reads the pull request's number from a GitHub Actions
// event file: pull_request.number (pull_request and pull_request_target
// events), or issue.number when the issue is a pull request (an
// issue_comment event on one). isPR is false for any other event.
func pullRequestNumber(path string) (number int, isPR bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false, fmt.Errorf("read the event: %w", err)
	}
	var ev struct {
		PullRequest *struct {
			Number int `json:"number"`
		} `json:"pull_request"`
		Issue *struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return 0, false, fmt.Errorf("the event %s is not JSON: %w", path, err)
	}
	switch {
	case ev.PullRequest != nil && ev.PullRequest.Number > 0:
		return ev.PullRequest.Number, true, nil
	case ev.Issue != nil && ev.Issue.Number > 0 && len(ev.Issue.PullRequest) > 0 && string(ev.Issue.PullRequest) != "null":
		return ev.Issue.Number, true, nil
	}
	return 0, false, nil
}

// runPageURL is the workflow run's page, where its artifacts are listed:
// $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID, or ""
// outside GitHub Actions.
func runPageURL(getenv func(string) string) string {
	server, repo, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	link := strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + id
	if checkLink(link) != nil {
		return ""
	}
	return link
}

// checkLink accepts an http(s) URL that GitHub's markdown links as it is:
// no spaces, control characters, quotes or angle brackets.
func checkLink(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("<>\"`", r) || unicode.IsSpace(r)
	}); i >= 0 {
		return fmt.Errorf("%q holds a character a link cannot (%q)", s, s[i:i+1])
	}
	return nil
}
