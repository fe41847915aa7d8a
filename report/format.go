package report

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/results"
)

// formatSeconds renders a duration in seconds with millisecond precision, the
// unit JUnit uses for its time attributes.
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// poolSummary describes the pool under test: "size 20 + overflow 30,
// timeout 30s, read_committed" (the checkout's options when not the
// defaults, but the isolation level, which is always named).
func poolSummary(p results.Pool) string {
	s := fmt.Sprintf("size %d + overflow %d, timeout %s", p.Size, p.MaxOverflow, humanize.Exact(p.Timeout))
	if p.Recycle > 0 {
		s += ", recycle " + humanize.Exact(p.Recycle)
	}
	if p.PrePing {
		s += ", pre-ping"
	}
	if p.IsolationLevel != "" { // "" in reports from before it was recorded
		s += ", " + p.IsolationLevel
	}
	if p.ResetOnReturn != "" && p.ResetOnReturn != "rollback" {
		s += ", reset " + p.ResetOnReturn
	}
	if p.UseLIFO {
		s += ", LIFO"
	}
	return s
}

// outcomeSymbols are the marks of an assertion evaluation: pass, critical
// fail or error, warning fail or error, skipped, undecided (within the
// run's measurement error), unknown.
type outcomeSymbols struct{ pass, fail, warn, skipped, undecided, unknown string }

var (
	tableSymbols    = outcomeSymbols{"✓", "✗", "!", "–", "≈", "?"}
	markdownSymbols = outcomeSymbols{"✅", "❌", "⚠️", "⏭️", "🟡", "❔"}
)

// of picks the mark for o.
func (s outcomeSymbols) of(o results.Outcome) string {
	if o.Undecided {
		return s.undecided
	}
	switch o.Status {
	case results.OutcomePass:
		return s.pass
	case results.OutcomeSkipped:
		return s.skipped
	case results.OutcomeFail, results.OutcomeError:
		if isWarning(o) {
			return s.warn
		}
		return s.fail
	}
	return s.unknown
}

// outcomeSymbol is the one-character status of an assertion evaluation.
func outcomeSymbol(o results.Outcome) string { return tableSymbols.of(o) }

// outcomeEmoji is the markdown counterpart of outcomeSymbol.
func outcomeEmoji(o results.Outcome) string { return markdownSymbols.of(o) }

// isWarning reports whether the outcome's failure only warns.
func isWarning(o results.Outcome) bool { return o.Severity == "warning" }

// failed reports whether the outcome counts against the verdict.
func failed(o results.Outcome) bool {
	return !isWarning(o) && !o.Undecided && (o.Status == results.OutcomeFail || o.Status == results.OutcomeError)
}

// warned reports whether the outcome is a failing (or unevaluable) warning.
func warned(o results.Outcome) bool {
	return isWarning(o) && !o.Undecided && (o.Status == results.OutcomeFail || o.Status == results.OutcomeError)
}

// undecided reports whether the run's own measurement error could have
// turned the outcome.
func undecided(o results.Outcome) bool { return o.Undecided }

// actualText is what a report prints next to the check: the values it used,
// or why it has none.
func actualText(o results.Outcome) string {
	switch {
	case o.Status == results.OutcomeError:
		return "error: " + o.Reason
	case o.Status == results.OutcomeSkipped:
		if o.Reason != "" {
			return "skipped: " + o.Reason
		}
		return "skipped"
	case o.Undecided:
		return strings.TrimPrefix(o.Actual+"; ", "; ") + "undecided: " + o.Band
	case o.Actual != "":
		return o.Actual
	default:
		return o.Reason
	}
}

// checkSymbol is the one-character status of a preflight check or criterion
// (whose statuses are the checks' plus skipped).
func checkSymbol(status string) string { return tableSymbols.ofCheck(status) }

// checkEmoji is the markdown counterpart of checkSymbol.
func checkEmoji(status string) string { return markdownSymbols.ofCheck(status) }

// ofCheck picks the mark for a preflight check's or a criterion's status.
func (s outcomeSymbols) ofCheck(status string) string {
	switch status {
	case string(results.CheckPass):
		return s.pass
	case string(results.CheckWarn):
		return s.warn
	case string(results.CheckFail):
		return s.fail
	case string(results.OutcomeSkipped):
		return s.skipped
	}
	return s.unknown
}

// verdictLine is the verdict as its last line says it: the label, and its
// reason when it has one (an inconclusive verdict's: "INCONCLUSIVE: 1
// critical check could have gone either way …"; a partial run's).
func verdictLine(v results.Verdict) string {
	if v.Reason != "" {
		return verdictLabel(v) + ": " + v.Reason
	}
	return verdictLabel(v)
}

// generatorText is what the load generator measured of itself in a
// scenario, on one line: "timer lateness p99 1.2ms; CPU: planrun 0.85,
// server 0.90, service 0.40, machine 1.96 of 2 cores" ("unknown" for a
// figure the machine could not give; the server's and the service's only
// when measured: an embedded server, a service planrun started), with ",
// proxy lateness p99 0.8ms" after the timer's with target.network; "" when
// it was not measured.
func generatorText(g results.Generator) string {
	if g.TimerLateness.Count == 0 {
		return ""
	}
	cores := func(f float64) string {
		if f < 0 {
			return "unknown"
		}
		return fmt.Sprintf("%.2f", f)
	}
	s := "timer lateness p99 " + humanize.Duration(g.TimerLateness.P99)
	if g.ProxyLateness.Count > 0 {
		s += ", proxy lateness p99 " + humanize.Duration(g.ProxyLateness.P99)
	}
	s += "; CPU: planrun " + cores(g.CPU)
	if g.ServerCPU >= 0 {
		s += ", server " + cores(g.ServerCPU)
	}
	if g.ServiceCPU >= 0 {
		s += ", service " + cores(g.ServiceCPU)
	}
	s += ", machine " + cores(g.MachineCPU)
	if g.Cores > 0 {
		s += fmt.Sprintf(" of %d cores", g.Cores)
	}
	return s
}

// verdictLabel is the verdict's label, or a plain one when the producer set none.
func verdictLabel(v results.Verdict) string {
	if v.Label != "" {
		return v.Label
	}
	if v.Pass {
		return "PASS"
	}
	return "FAIL"
}

// closedBy renders connection closes by reason in a fixed order, unknown
// reasons last and sorted: "overflow 30, end 22".
func closedBy(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m, []string{results.CloseRecycled, results.CloseOverflow, results.CloseBroken, results.CloseEnd}) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %s", printable.Line(k), humanize.Int(m[k])))
		}
	}
	return strings.Join(parts, ", ")
}

// sortedKeys returns the keys of m: first those in order that are present,
// then the others alphabetically.
func sortedKeys[V any](m map[string]V, order []string) []string {
	keys := make([]string, 0, len(m))
	seen := make(map[string]bool, len(order))
	for _, k := range order {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

// errorCategories lists the categories of s with at least one error, in
// report order.
func errorCategories(s results.Scenario) []string {
	var cats []string
	for _, k := range sortedKeys(s.ErrorsBy, results.ErrorCategories) {
		if s.ErrorsBy[k] != 0 {
			cats = append(cats, k)
		}
	}
	return cats
}

// recoveryText describes a scenario's recovery measurement by its status,
// naming what it was measured after: "412ms after stage 2 (settled
// 500ms)", "1.24s after fault 1 (stall for 2s; settled 500ms)". faults are
// the scenario's, to name a fault by what it was.
func recoveryText(r *results.Recovery, faults []results.Fault) string {
	if r == nil {
		return "–"
	}
	// after names the point of measurement; detail is the fault's What.
	after, detail := fmt.Sprintf("stage %d", r.AfterStage), ""
	if r.AfterStage == 0 && r.AfterFault > 0 {
		after = fmt.Sprintf("fault %d", r.AfterFault)
		if r.AfterFault <= len(faults) {
			detail = faults[r.AfterFault-1].What
		}
	}
	// named is after with its detail: "fault 1 (stall for 2s)".
	named := after
	if detail != "" {
		named += " (" + detail + ")"
	}
	switch r.Status {
	case results.RecoveryRecovered:
		var notes []string
		if detail != "" {
			notes = append(notes, detail)
		}
		if r.Settle > 0 {
			notes = append(notes, "settled "+humanize.Duration(r.Settle))
		}
		s := humanize.Duration(r.Duration) + " after " + after
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, "; ") + ")"
		}
		return s
	case results.RecoveryNotRecovered:
		s := fmt.Sprintf("not recovered by the end (%s after %s", humanize.Duration(r.Duration), after)
		if detail != "" {
			s += ", " + detail
		}
		return s + ")"
	case results.RecoveryNotStressed:
		if r.AfterStage == 0 && r.AfterFault > 0 {
			return "not measured: the pool was never exhausted nor slow after " + named
		}
		return "not measured: the pool was never exhausted nor slow in " + after
	case results.RecoveryNotReached:
		return "not measured: the scenario stopped before " + named + " ended"
	}
	status := string(r.Status)
	if status == "" {
		status = "no status recorded"
	}
	return fmt.Sprintf("%s after %s (%s)", humanize.Duration(r.Duration), named, status)
}

// faultRecoveryText is the short recovery of one fault, for the faults
// table: "recovered in 1.24s", "not recovered (8.1s to the end)", "not
// stressed", "not reached"; "–" when none was measured.
func faultRecoveryText(r *results.Recovery) string {
	if r == nil {
		return "–"
	}
	switch r.Status {
	case results.RecoveryRecovered:
		return "recovered in " + humanize.Duration(r.Duration)
	case results.RecoveryNotRecovered:
		return "not recovered (" + humanize.Duration(r.Duration) + " to the end)"
	case results.RecoveryNotStressed:
		return "not stressed"
	case results.RecoveryNotReached:
		return "not reached"
	}
	if r.Status == "" {
		return humanize.Duration(r.Duration) + " (no status recorded)"
	}
	return humanize.Duration(r.Duration) + " (" + string(r.Status) + ")"
}

// faultPlanned is when a fault was planned, from the scenario's start:
// "30s", "1m30s" (its length is in its What).
func faultPlanned(f results.Fault) string { return humanize.Exact(f.At) }

// faultRan is when a fault ran, measured from the scenario's start:
// "30s–32s" (or "1m30s" for an instant fault), "failed at 30s", "not
// reached".
func faultRan(f results.Fault) string {
	span := humanize.Duration(f.Started)
	if f.Ended != f.Started {
		span += "–" + humanize.Duration(f.Ended)
	}
	switch f.Status {
	case results.FaultApplied:
		return span
	case results.FaultFailed:
		return "failed at " + span
	case results.FaultNotReached:
		return "not reached"
	}
	status := string(f.Status)
	if status == "" {
		status = "no status recorded"
	}
	return status + " " + span
}

// faultRow is one fault's cells in the faults tables: number (1-based,
// as recovery's after_fault counts), what, planned, ran, effect, recovery.
func faultRow(i int, f results.Fault) []string {
	effect := f.Effect
	if effect == "" {
		effect = "–"
	}
	return []string{fmt.Sprint(i + 1), f.What, faultPlanned(f), faultRan(f), effect, faultRecoveryText(f.Recovery)}
}

// faultHeader names faultRow's cells.
var faultHeader = []string{"#", "fault", "at", "ran", "effect", "recovery"}

// faultMarks are the markers of a time-series point (the step that ends at
// p.T and lasts step): "1 stall" (the fault's number and kind) for each
// fault that was applied within it, "3 lock (failed)" for one that failed
// there, joined by ", ".
func faultMarks(p results.Point, step time.Duration, faults []results.Fault) string {
	var marks []string
	for i, f := range faults {
		if f.Status != results.FaultApplied && f.Status != results.FaultFailed {
			continue
		}
		if !faultInStep(f, p.T, step) {
			continue
		}
		m := fmt.Sprintf("%d %s", i+1, f.Kind)
		if f.Status == results.FaultFailed {
			m += " (failed)"
		}
		marks = append(marks, m)
	}
	return strings.Join(marks, ", ")
}

// faultInStep reports whether fault f was active in the series step
// (end−step, end]: an instant fault when it happened within it, a lasting
// one when its span [Started, Ended] overlaps it.
func faultInStep(f results.Fault, end, step time.Duration) bool {
	start := end - step
	if f.Ended == f.Started {
		return f.Started > start && f.Started <= end
	}
	return f.Started <= end && f.Ended > start
}

// networkText describes the simulated network: "+2ms ±500µs, 100 MB/s per
// connection each way, pool connections only (preflight and setup
// direct)"; "" when there is none.
func networkText(n *results.Network) string {
	if n == nil {
		return ""
	}
	s := "+" + humanize.Exact(n.Latency)
	if n.Latency == 0 {
		s = "no added latency"
	}
	if n.Jitter > 0 {
		s += " ±" + humanize.Exact(n.Jitter)
	}
	if n.Bandwidth > 0 {
		s += ", " + bandwidthText(n.Bandwidth) + " per connection each way"
	}
	return s + ", pool connections only (preflight and setup direct)"
}

// bandwidthText renders bytes per second the way a plan would write it:
// in the largest decimal unit (GB/s, MB/s, kB/s) when a whole number,
// else in a binary unit (GiB/s, MiB/s, KiB/s) when a whole number below
// 1024, else in the largest decimal unit with three significant digits:
// "100 MB/s", "512 KiB/s", "1.25 MB/s" (10Mbit/s), "999 B/s".
func bandwidthText(b int64) string {
	decimal := []struct {
		size int64
		name string
	}{{1e9, "GB/s"}, {1e6, "MB/s"}, {1e3, "kB/s"}, {1, "B/s"}}
	binary := []struct {
		size int64
		name string
	}{{1 << 30, "GiB/s"}, {1 << 20, "MiB/s"}, {1 << 10, "KiB/s"}}
	for _, u := range decimal {
		if b < u.size && u.size > 1 {
			continue
		}
		if b%u.size == 0 {
			return humanize.Int(b/u.size) + " " + u.name
		}
		for _, bu := range binary {
			if b%bu.size == 0 && b/bu.size >= 1 && b/bu.size < 1024 {
				return humanize.Int(b/bu.size) + " " + bu.name
			}
		}
		v, prec := float64(b)/float64(u.size), 2
		if v >= 100 {
			prec = 0
		} else if v >= 10 {
			prec = 1
		}
		s := strconv.FormatFloat(v, 'f', prec, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return s + " " + u.name
	}
	return humanize.Int(b) + " B/s" // not reached: every b ends in B/s at the latest
}

// recoveryMeasured reports whether a recovery was measured (recovered or
// not), as opposed to a load that did not test it.
func recoveryMeasured(r *results.Recovery) bool {
	return r != nil && (r.Status == results.RecoveryRecovered || r.Status == results.RecoveryNotRecovered)
}

// exhaustionText summarises exhaustion periods in one line.
func exhaustionText(e results.Exhaustion) string {
	if e.Events == 0 && e.Timeouts == 0 {
		return "none"
	}
	return fmt.Sprintf("%s, total %s, longest %s, %s",
		plural(int64(e.Events), "event", "events"), humanize.Duration(e.Total), humanize.Duration(e.Longest),
		plural(e.Timeouts, "timeout", "timeouts"))
}

// plural renders a count with thousands separators and the noun that agrees
// with it: "1 event", "0 events", "1,240 timeouts".
func plural(n int64, one, many string) string { return humanize.Count(n, one, many) }

// warmupText says that a scenario's warm-up is left out of its figures, or
// is empty when it has none.
func warmupText(s results.Scenario) string {
	if s.Warmup <= 0 {
		return ""
	}
	return "warm-up " + humanize.Exact(s.Warmup) + " excluded"
}

// outcomeName is an outcome's name with the marks the table and markdown
// both show after it; " (built-in)" once, not after a name that already
// says it (the built-ins are named "built-in: ...").
func outcomeName(o results.Outcome) string {
	name := o.Name
	if o.Builtin && !strings.HasPrefix(name, "built-in") {
		name += " (built-in)"
	}
	return name
}

// connectionsText summarises the connection lifecycle in one line.
func connectionsText(c results.Connections) string {
	s := fmt.Sprintf("opened %s, closed %s", humanize.Int(c.Opened), humanize.Int(c.Closed))
	if by := closedBy(c.ClosedBy); by != "" {
		s += " (" + by + ")"
	}
	return s + fmt.Sprintf(", max open %d, reuse %s", c.MaxOpen, humanize.Percent(c.Reuse))
}

// utilizationText summarises pool utilization in one line.
func utilizationText(u results.Utilization) string {
	return fmt.Sprintf("mean %s, p95 %s, max %s", humanize.Percent(u.Mean), humanize.Percent(u.P95), humanize.Percent(u.Max))
}

// leaksText summarises leaks in one line, with the longest-held one.
func leaksText(s results.Scenario) string {
	if s.Leaks == 0 {
		return "0"
	}
	text := humanize.Int(int64(s.Leaks))
	if len(s.LeakDetails) > 0 {
		l := s.LeakDetails[0]
		text += fmt.Sprintf(" (first: %s, user %d, %s held %s)", l.Operation, l.User, l.Kind, humanize.Duration(l.Held))
	}
	return text
}

// criticalSummary is the sentence under the verdict: how many critical checks
// failed, and which.
func criticalSummary(run *results.Run) string {
	var total int
	var failures, open, warnings []string
	for _, o := range run.Assertions {
		if o.Status == results.OutcomeSkipped {
			continue
		}
		name := o.Name
		if o.Scenario != "" {
			name += " (" + o.Scenario + ")"
		}
		switch {
		case isWarning(o):
			if warned(o) {
				warnings = append(warnings, name)
			}
		default:
			total++
			if failed(o) {
				failures = append(failures, name)
			}
			if undecided(o) {
				open = append(open, name)
			}
		}
	}
	var s string
	switch {
	case total == 0 && len(run.Scenarios) == 0 && len(run.Preflight) > 0:
		s = preflightSummary(run.Preflight)
	case total == 0:
		s = "No critical checks were evaluated."
	case len(failures) == 0 && len(open) > 0:
		s = fmt.Sprintf("%d of %s undecided within the run's measurement error, none failed: %s.", len(open), plural(int64(total), "critical check", "critical checks"), strings.Join(open, ", "))
	case len(failures) == 0 && total == 1:
		s = "The one critical check passed."
	case len(failures) == 0:
		s = fmt.Sprintf("All %d critical checks passed.", total)
	default:
		s = fmt.Sprintf("%d of %s failed: %s.", len(failures), plural(int64(total), "critical check", "critical checks"), strings.Join(failures, ", "))
		if len(open) > 0 {
			s += fmt.Sprintf(" %d undecided: %s.", len(open), strings.Join(open, ", "))
		}
	}
	if len(warnings) > 0 {
		s += fmt.Sprintf(" %s: %s.", plural(int64(len(warnings)), "warning", "warnings"), strings.Join(warnings, ", "))
	}
	if run.Status != "" && run.Status != results.StatusCompleted {
		s += " The run " + statusWord(run.Status)
		if run.StatusReason != "" {
			s += ": " + run.StatusReason
		}
		s += "."
	}
	return s
}

// preflightSummary counts the preflight checks by status, for a run that
// stopped at (or only ran) preflight.
func preflightSummary(checks []results.Check) string {
	n := map[results.CheckStatus]int{}
	var failed []string
	for _, c := range checks {
		n[c.Status]++
		if c.Status == results.CheckFail {
			failed = append(failed, c.Name)
		}
	}
	s := fmt.Sprintf("Preflight: %d passed, %d warned, %d failed",
		n[results.CheckPass], n[results.CheckWarn], n[results.CheckFail])
	if len(failed) > 0 {
		s += " (" + strings.Join(failed, ", ") + ")"
	}
	return s + "."
}

// statusWord turns a run status into a phrase for a sentence.
func statusWord(status results.Status) string {
	switch status {
	case results.StatusAborted:
		return "was aborted"
	case results.StatusInterrupted:
		return "was interrupted"
	case results.StatusFailed:
		return "failed"
	default:
		return "ended " + string(status)
	}
}

// formatFloat prints f in its shortest exact form: 70, 0.5, 1.25.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// formatTime prints an instant in UTC, or "–" when unset.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// sqlStatesText renders server errors by SQLSTATE, codes sorted: "23505 2, 40P01 37".
func sqlStatesText(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m, nil) {
		parts = append(parts, printable.Line(k)+" "+humanize.Int(m[k]))
	}
	return strings.Join(parts, ", ")
}

// segmentText says which slice of the plan a segment report ran:
// "segment 2 of 3 (replicas 3, 4), started at 2025-03-14 09:30:00 UTC"
// (the start instant is --start-at, left out when not given); "" for a
// whole or merged run.
func segmentText(seg *results.Segment) string {
	if seg == nil {
		return ""
	}
	s := fmt.Sprintf("segment %d of %d", seg.Index, seg.Count)
	if len(seg.Replicas) > 0 {
		nums := make([]string, len(seg.Replicas))
		for i, r := range seg.Replicas {
			nums[i] = strconv.Itoa(r)
		}
		noun := "replicas "
		if len(nums) == 1 {
			noun = "replica "
		}
		s += " (" + noun + strings.Join(nums, ", ") + ")"
	}
	if !seg.StartAt.IsZero() {
		s += ", started at " + formatTime(seg.StartAt)
	}
	return s
}

// mergedText says a run record was merged from segment reports: "merged
// from 3 segments: a.json, b.json, c.json", each file name through quote
// (the renderers pass their escaping; the names are already base names,
// see withMergedBaseNames); "" for a run that was not merged.
func mergedText(m *results.Merged, quote func(string) string) string {
	if m == nil {
		return ""
	}
	s := "merged from " + plural(int64(m.Segments), "segment", "segments")
	if len(m.Files) == 0 {
		return s
	}
	files := make([]string, len(m.Files))
	for i, f := range m.Files {
		files[i] = quote(f)
	}
	return s + ": " + strings.Join(files, ", ")
}

// withMergedBaseNames returns run with only the base names of the files it
// was merged from (the directories the merge read them in tell a reader
// nothing), taken before any escaping so that an escape's backslash is
// never read as a separator. run itself is not modified; a run that was
// not merged is returned as it is.
func withMergedBaseNames(run *results.Run) *results.Run {
	if run == nil || run.Merged == nil {
		return run
	}
	out := *run
	m := *run.Merged
	m.Files = make([]string, len(run.Merged.Files))
	for i, f := range run.Merged.Files {
		m.Files[i] = filepath.Base(f)
	}
	out.Merged = &m
	return &out
}

// poolLine is the pool under test as the table header and the markdown
// context line show it: poolSummary, preceded by "3 replicas, each " when
// the plan runs several (target.replicas: each replica is an application
// instance with a pool of its own).
func poolLine(run *results.Run) string {
	if run.Target.Replicas > 1 {
		return fmt.Sprintf("%d replicas, each %s", run.Target.Replicas, poolSummary(run.Pool))
	}
	return poolSummary(run.Pool)
}

// hasReplicaBreakdown reports whether a scenario's pool figures are worth
// breaking down by replica: with one replica the breakdown repeats the
// totals, and a scenario that sent only HTTP requests has none worth
// showing (planrun's pools took no load).
func hasReplicaBreakdown(s results.Scenario) bool { return len(s.Replicas) > 1 && !noOwnPool(s) }

// noOwnPool reports whether planrun's own pool took no load in s: a
// scenario that sent only HTTP requests, or a watch (no load at all).
func noOwnPool(s results.Scenario) bool { return s.HTTPOnly || s.Watch }

// ownPoolText is what the reports show in place of planrun's own pool
// figures on a scenario where it took no load ([noOwnPool]).
func ownPoolText(s results.Scenario) string {
	if s.Watch {
		return watchText
	}
	return httpOnlyText
}

// watchText is what the reports show in place of planrun's own pool and
// the load's figures on a watch (planrun watch).
const watchText = "not applicable: a watch runs no load; it samples the service's backends on the server (see Service)"

// measuredLoad drops the watches from scenarios: the load's tables have
// nothing to show of them.
func measuredLoad(scenarios []results.Scenario) []results.Scenario {
	out := make([]results.Scenario, 0, len(scenarios))
	for _, s := range scenarios {
		if !s.Watch {
			out = append(out, s)
		}
	}
	return out
}

// httpOnlyText is what the reports show in place of planrun's own pool
// figures (connections, utilization, exhaustion, leaks) on a scenario that
// sent only HTTP requests: they are zeros that measured nothing.
const httpOnlyText = "not applicable: the scenario sent only HTTP requests, so planrun's own pool took no load (the service's pool: see Service)"

// replicaHeader names the columns of replicaCells.
var replicaHeader = []string{"replica", "acquires", "max open", "utilization mean / max", "exhaustion events / total / timeouts"}

// replicaCells are one replica's figures in the replica tables, each
// figure apart so that a renderer can mark the worst: number, acquires,
// max open, utilization mean, utilization max, exhaustion events, time
// exhausted in total, acquire timeouts.
type replicaCells struct {
	index, acquires, maxOpen, utilMean, utilMax, events, total, timeouts string
}

func replicaFigures(r results.Replica) replicaCells {
	return replicaCells{
		index:    strconv.Itoa(r.Index),
		acquires: humanize.Int(r.Acquires),
		maxOpen:  humanize.Int(int64(r.MaxOpen)),
		utilMean: humanize.Percent(r.Utilization.Mean),
		utilMax:  humanize.Percent(r.Utilization.Max),
		events:   humanize.Int(int64(r.Exhaustion.Events)),
		total:    humanize.Duration(r.Exhaustion.Total),
		timeouts: humanize.Int(r.Exhaustion.Timeouts),
	}
}

// replicaWorst marks, for one replica, the figures in which it stands out
// for the worse among its scenario's replicas: it has the worst value (ties
// mark each), the value is bad (utilization that reached 100 %, time
// exhausted, acquire timeouts), and some replica did better. When every
// replica shares the worst value, the scenario's totals already say it.
type replicaWorst struct{ utilization, exhaustion, timeouts bool }

// worstReplicas returns replicaWorst for each of reps, in order. It only
// picks among the figures shown; assertions read the worst replica as
// replicas.<figure>.
func worstReplicas(reps []results.Replica) []replicaWorst {
	out := make([]replicaWorst, len(reps))
	mark := func(bad func(float64) bool, value func(results.Replica) float64, set func(*replicaWorst)) {
		worst, best := value(reps[0]), value(reps[0])
		for _, r := range reps {
			worst, best = max(worst, value(r)), min(best, value(r))
		}
		if !bad(worst) || worst == best {
			return
		}
		for i, r := range reps {
			if value(r) == worst {
				set(&out[i])
			}
		}
	}
	if len(reps) == 0 {
		return out
	}
	mark(func(v float64) bool { return v >= 1 }, func(r results.Replica) float64 { return r.Utilization.Max },
		func(w *replicaWorst) { w.utilization = true })
	mark(func(v float64) bool { return v > 0 }, func(r results.Replica) float64 { return float64(r.Exhaustion.Total) },
		func(w *replicaWorst) { w.exhaustion = true })
	mark(func(v float64) bool { return v > 0 }, func(r results.Replica) float64 { return float64(r.Exhaustion.Timeouts) },
		func(w *replicaWorst) { w.timeouts = true })
	return out
}
