package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/results"
)

// JUnit XML, in the subset Jenkins, GitLab and the GitHub Actions test
// reporters all read: testsuites > testsuite > testcase with failure, error,
// skipped and system-out.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Timestamp  string           `xml:"timestamp,attr,omitempty"`
	Properties *junitProperties `xml:"properties"`
	Cases      []junitCase      `xml:"testcase"`
	// SystemOut notes what the suite's testcases do not say (a fault that
	// could not be applied).
	SystemOut *junitText `xml:"system-out,omitempty"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out"`
}

// junitText is element text kept readable: CDATA, line breaks as they are.
type junitText struct {
	Text string `xml:",cdata"`
}

// text wraps s for a CDATA section (see xmlText).
func text(s string) *junitText { return &junitText{xmlText(s)} }

// xmlText replaces the characters XML 1.0 forbids (control characters in an
// error message) with U+FFFD: encoding/xml escapes them in attributes but
// writes CDATA bytes as they are ("]]>" it splits itself).
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			return r
		}
		return '\uFFFD'
	}, s)
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// add appends c to the suite and updates its counts.
func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Error != nil:
		s.Errors++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// JUnit writes the run as JUnit XML for CI: one testsuite per scenario with
// one testcase (classname "planrun.<plan>.<scenario>") per assertion
// evaluation, a "preflight" testsuite with one testcase per check, when the
// verdict is inconclusive a "measurement" testsuite whose testcase errors
// with the verdict line (which names the undecided checks), and, when the run
// did not complete, a "run" testsuite whose testcase errors with the reason. A failing critical assertion is a <failure>, an unevaluable one an
// <error>, an undecided critical one an <error> of type "undecided", a skipped one <skipped> (but a critical one skipped because its
// figure was not measured is an <error>: it failed the verdict); a failing warning passes with a
// <system-out> note, as it does not fail the verdict. Text from the run has
// its control characters escaped (package printable) and anything else XML
// 1.0 forbids replaced, so the document is always well-formed.
func JUnit(w io.Writer, run *results.Run) error {
	run = printableRun(withMergedBaseNames(run))
	doc := junitSuites{Name: run.Plan.Name, Time: "0.000"}
	if !run.StartedAt.IsZero() && !run.FinishedAt.IsZero() {
		doc.Time = formatSeconds(run.FinishedAt.Sub(run.StartedAt))
	}
	class := func(suite string) string { return "planrun." + run.Plan.Name + "." + suite }

	if len(run.Preflight) > 0 {
		suite := junitSuite{Name: "preflight", Time: "0.000"}
		for _, c := range run.Preflight {
			suite.add(preflightCase(class("preflight"), c))
		}
		doc.Suites = append(doc.Suites, suite)
	}

	// One suite per scenario in run order; outcomes naming a scenario the run
	// does not hold (not selected, not reached) get a suite of their own.
	index := map[string]int{}
	suites := []junitSuite{}
	for _, s := range run.Scenarios {
		index[s.Name] = len(suites)
		suites = append(suites, scenarioSuite(s, run))
	}
	for _, o := range run.Assertions {
		name := o.Scenario
		if name == "" {
			name = "run" // an outcome about the whole run
		}
		i, ok := index[name]
		if !ok {
			i = len(suites)
			index[name] = i
			suites = append(suites, junitSuite{Name: name, Time: "0.000"})
		}
		suites[i].add(outcomeCase(class(name), o))
	}
	doc.Suites = append(doc.Suites, suites...)

	if run.Verdict.Inconclusive {
		// Not the pool's failure: an <error>, with the verdict's reason.
		suite := junitSuite{Name: "measurement", Time: "0.000"}
		msg := verdictLine(run.Verdict)
		suite.add(junitCase{Classname: class("measurement"), Name: "load generator kept to its schedule", Time: "0.000",
			Error: &junitProblem{Message: msg, Type: "inconclusive", Text: xmlText(msg)}})
		doc.Suites = append(doc.Suites, suite)
	}

	if run.Status != results.StatusCompleted {
		suite := junitSuite{Name: "run", Time: doc.Time}
		msg := "run " + string(run.Status)
		if run.StatusReason != "" {
			msg += ": " + run.StatusReason
		}
		suite.add(junitCase{Classname: class("run"), Name: "run status", Time: doc.Time,
			Error: &junitProblem{Message: msg, Type: "run." + string(run.Status), Text: xmlText(msg)}})
		doc.Suites = append(doc.Suites, suite)
	}

	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// scenarioSuite is a scenario's testsuite, without its testcases; its
// properties carry the load figures for readers that show them, the
// simulated network when there is one, the run's segment or the files it
// was merged from (segment, merged), the recovery, each replica's worst
// figures when the scenario ran several (replica.<n>.utilization.max,
// replica.<n>.exhaustion.timeouts, replica.<n>.max_open; n the replica's
// number) and each scheduled fault (fault.<n>, fault.<n>.ran,
// fault.<n>.effect, fault.<n>.recovery; n 1-based). A fault that failed to
// apply is also a line of the suite's system-out.
func scenarioSuite(s results.Scenario, run *results.Run) junitSuite {
	suite := junitSuite{Name: s.Name, Time: formatSeconds(s.Elapsed)}
	if !s.StartedAt.IsZero() {
		suite.Timestamp = s.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	props := []junitProperty{
		{"status", string(s.Status)},
		{"users", fmt.Sprint(s.MaxUsers)},
		{"ops", fmt.Sprint(s.Ops)},
		{"errors", fmt.Sprint(s.Errors)},
	}
	if s.Cancelled > 0 {
		props = append(props, junitProperty{"cancelled", fmt.Sprint(s.Cancelled)})
	}
	if s.Model == results.ModelOpen {
		props = append(props,
			junitProperty{"model", string(s.Model)},
			junitProperty{"target_rate", humanize.Rate(s.Rate) + "/s"},
			junitProperty{"achieved_rate", humanize.Rate(s.Throughput) + "/s"},
			junitProperty{"arrivals", fmt.Sprint(s.Arrivals)},
			junitProperty{"dropped", fmt.Sprint(s.Dropped)},
			junitProperty{"lag_p99", humanize.Exact(s.Lag.P99)})
	}
	if s.Warmup > 0 {
		props = append(props, junitProperty{"warmup_excluded", humanize.Exact(s.Warmup)})
	}
	switch {
	case s.Watch: // no load: only the service's figures (its section) were measured
		props = append(props, junitProperty{"watch", "true"})
	case s.HTTPOnly: // planrun's own pool took no load: its latencies measured nothing
		props = append(props,
			junitProperty{"throughput", humanize.Rate(s.Throughput) + " ops/s"},
			junitProperty{"success_rate", humanize.Percent(s.SuccessRate)},
			junitProperty{"http_only", "true"},
			junitProperty{"op.p95", humanize.Duration(s.Op.P95)})
	default:
		props = append(props,
			junitProperty{"throughput", humanize.Rate(s.Throughput) + " ops/s"},
			junitProperty{"success_rate", humanize.Percent(s.SuccessRate)},
			junitProperty{"acquire.p95", humanize.Duration(s.Acquire.P95)},
			junitProperty{"query.p95", humanize.Duration(s.Query.P95)},
			junitProperty{"op.p95", humanize.Duration(s.Op.P95)})
	}
	if g := generatorText(s.Generator); g != "" {
		props = append(props, junitProperty{"load_generator", g})
	}
	if n := networkText(run.Target.Network); n != "" {
		props = append(props, junitProperty{"network", n})
	}
	if seg := segmentText(run.Segment); seg != "" {
		props = append(props, junitProperty{"segment", seg})
	}
	if m := mergedText(run.Merged, printable.Line); m != "" {
		props = append(props, junitProperty{"merged", m})
	}
	if s.Recovery != nil {
		props = append(props, junitProperty{"recovery", recoveryText(s.Recovery, s.Faults)})
	}
	if hasReplicaBreakdown(s) {
		for _, r := range s.Replicas {
			key := fmt.Sprintf("replica.%d.", r.Index)
			props = append(props,
				junitProperty{key + "utilization.max", humanize.Percent(r.Utilization.Max)},
				junitProperty{key + "exhaustion.timeouts", fmt.Sprint(r.Exhaustion.Timeouts)},
				junitProperty{key + "max_open", fmt.Sprint(r.MaxOpen)})
		}
	}
	var failedFaults []string
	for i, f := range s.Faults {
		c := faultRow(i, f)
		key := "fault." + c[0]
		props = append(props,
			junitProperty{key, c[1] + " (at " + c[2] + ")"},
			junitProperty{key + ".ran", c[3]},
			junitProperty{key + ".effect", c[4]})
		if f.Recovery != nil {
			props = append(props, junitProperty{key + ".recovery", c[5]})
		}
		if f.Status == results.FaultFailed {
			failedFaults = append(failedFaults, fmt.Sprintf("fault %s (%s) %s: %s", c[0], c[1], c[3], c[4]))
		}
	}
	suite.Properties = &junitProperties{Property: props}
	if len(failedFaults) > 0 {
		suite.SystemOut = text(strings.Join(failedFaults, "\n"))
	}
	return suite
}

// outcomeCase is the testcase of one assertion evaluation.
func outcomeCase(class string, o results.Outcome) junitCase {
	c := junitCase{Classname: class, Name: o.Name, Time: "0.000"}
	detail := fmt.Sprintf("check: %s\nseverity: %s\nstatus: %s", o.Check, o.Severity, o.Status)
	if o.Actual != "" {
		detail += "\nactual: " + o.Actual
	}
	if o.Reason != "" {
		detail += "\nreason: " + o.Reason
	}
	if o.Aborted {
		detail += "\nthis assertion aborted the run"
	}
	if o.Builtin {
		detail += "\nbuilt-in: planrun adds this assertion itself"
	}
	if o.Undecided {
		detail += "\nundecided: " + o.Band
		msg := fmt.Sprintf("undecided (%s): %s", o.Status, o.Band)
		if isWarning(o) {
			c.SystemOut = text("warning: " + msg + "\n" + detail + "\n(a warning does not change the verdict)")
		} else {
			// Neither passed nor failed: the verdict is inconclusive for it.
			c.Error = &junitProblem{Message: msg, Type: "undecided", Text: xmlText(detail)}
		}
		return c
	}
	switch o.Status {
	case results.OutcomeSkipped:
		if o.Unmeasured && !isWarning(o) {
			// Not measured, and critical: the verdict failed for it, so CI must not count it as fine.
			c.Error = &junitProblem{Message: "not measured: " + o.Reason, Type: "unmeasured", Text: xmlText(detail)}
			break
		}
		c.Skipped = &junitSkipped{Message: o.Reason}
	case results.OutcomeFail:
		msg := fmt.Sprintf("%s (check: %s)", o.Actual, o.Check)
		if o.Actual == "" {
			msg = "check failed: " + o.Check
		}
		if isWarning(o) {
			c.SystemOut = text("warning: " + msg + "\n" + detail + "\n(a warning does not fail the verdict)")
		} else {
			c.Failure = &junitProblem{Message: msg, Type: "assertion", Text: xmlText(detail)}
		}
	case results.OutcomeError:
		msg := fmt.Sprintf("could not evaluate %s: %s", o.Check, o.Reason)
		if isWarning(o) {
			c.SystemOut = text("warning: " + msg + "\n" + detail + "\n(a warning does not fail the verdict)")
		} else {
			c.Error = &junitProblem{Message: msg, Type: "evaluation", Text: xmlText(detail)}
		}
	}
	return c
}

// preflightCase is the testcase of one preflight check: a failing critical
// check fails; a warning, or a failing non-critical check, passes with a note.
func preflightCase(class string, ch results.Check) junitCase {
	c := junitCase{Classname: class, Name: ch.Name, Time: "0.000"}
	switch {
	case ch.Status == results.CheckFail && ch.Critical:
		c.Failure = &junitProblem{Message: ch.Reason, Type: "preflight", Text: xmlText(ch.Reason)}
	case ch.Status != results.CheckPass:
		c.SystemOut = text(strings.TrimSpace(string(ch.Status) + ": " + ch.Reason))
	}
	return c
}
