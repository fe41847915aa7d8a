package schema

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/planrun/planrun/internal/humanize"
)

// network checks target.network. An empty block is valid: a proxy that adds
// nothing, to measure the proxy's own cost.
func (v *validator) network() {
	n := v.p.Target.Network
	if n == nil || !v.m.ok(n) {
		return
	}
	v.check(n.Latency.D() > MaxLatency, &n.Latency, n.Pos,
		fmt.Sprintf("a round trip slower than %s is an outage: simulate it with a `stall` fault (see Limits in docs/plan-format.md)", humanize.Exact(MaxLatency)),
		"latency %s is more than %s", humanize.Exact(n.Latency.D()), humanize.Exact(MaxLatency))
	v.check(n.Jitter > n.Latency && v.m.ok(&n.Latency), &n.Jitter, n.Pos,
		fmt.Sprintf("jitter spreads each delay around the latency and cannot take it below 0: make it at most %s, or raise latency", humanize.Exact(n.Latency.D())),
		"jitter %s is more than latency %s", humanize.Exact(n.Jitter.D()), humanize.Exact(n.Latency.D()))
}

// faultNeeds says, per fault kind, which keys it requires. A key a kind
// does not list is not allowed for it (`share`, optional for
// terminate_backends, is the exception).
var faultNeeds = map[string]struct {
	forKey, add, table, network bool
}{
	FaultStall:             {forKey: true, network: true},
	FaultLatency:           {forKey: true, add: true, network: true},
	FaultReset:             {network: true},
	FaultTerminateBackends: {},
	FaultLock:              {forKey: true, table: true},
	FaultRestart:           {forKey: true},
}

// faultExample is an example of each kind, for hints.
var faultExample = map[string]string{
	FaultStall:             "{at: 30s, fault: stall, for: 5s}",
	FaultLatency:           "{at: 60s, fault: latency, add: 200ms, for: 10s}",
	FaultReset:             "{at: 90s, fault: reset}",
	FaultTerminateBackends: "{at: 100s, fault: terminate_backends, share: 50%}",
	FaultLock:              "{at: 120s, fault: lock, table: planrun_accounts, for: 3s}",
	FaultRestart:           "{at: 150s, fault: restart, for: 2s}",
}

// faultKindList renders FaultKinds in documentation order: "`stall`, `latency`, ...".
func faultKindList() string {
	s := make([]string, len(FaultKinds))
	for i, k := range FaultKinds {
		s[i] = "`" + k + "`"
	}
	return strings.Join(s, ", ")
}

// plannedLength is how long the scenario runs as written (unscaled:
// --time-scale scales it and the faults' times alike), and whether that
// is known: its duration or every stage's was written and read.
func (v *validator) plannedLength(s *Scenario) (time.Duration, bool) {
	if len(s.Stages) == 0 {
		return s.Duration.D(), v.m.has(&s.Duration) && v.m.ok(&s.Duration) && s.Duration > 0
	}
	for i := range s.Stages {
		st := &s.Stages[i]
		if !v.m.ok(st) || !v.m.has(&st.Duration) || !v.m.ok(&st.Duration) {
			return 0, false
		}
	}
	total := s.TotalDuration()
	return total, total > 0
}

// faults checks a scenario's scheduled faults: each on its own, then the
// windows of faults of one kind against each other.
func (v *validator) faults(s *Scenario, label string) {
	if len(s.Faults) > MaxFaults {
		v.errs.Add(v.m.at(&s.Faults, s.Pos), "a fault is an event in the run, not a load pattern: split the scenario, or model steady degradation with target.network (see Limits in docs/plan-format.md)",
			"%s has %s faults, more than %s", label, humanize.Int(int64(len(s.Faults))), humanize.Int(MaxFaults))
		return
	}
	length, known := v.plannedLength(s)
	for i := range s.Faults {
		v.fault(&s.Faults[i], label, length, known)
	}
	v.overlaps(s.Faults)
}

// fault checks one fault against its kind and the scenario's length.
func (v *validator) fault(f *Fault, label string, length time.Duration, lengthKnown bool) {
	if !v.m.ok(f) {
		return
	}
	kind := f.Fault
	need, known := faultNeeds[kind]
	switch {
	case !v.m.ok(&f.Fault):
	case !v.m.has(&f.Fault):
		v.errs.Add(f.Pos, "add `fault:` with one of "+faultKindList()+", e.g. `"+faultExample[FaultStall]+"`", "fault needs a kind")
	case !known:
		v.errs.Add(v.m.at(&f.Fault, f.Pos), didYouMean(kind, "faults", FaultKinds), "unknown fault `%s`", kind)
	}

	// at: required, before the end of the scenario.
	switch {
	case !v.m.ok(&f.At):
	case !v.m.has(&f.At):
		v.errs.Add(f.Pos, "add `at: 30s`: when the fault starts, counted from the scenario's start", "fault needs `at`")
	case lengthKnown && f.At.D() >= length:
		v.errs.Add(v.m.at(&f.At, f.Pos),
			"`at` counts from the scenario's start and must be before its end (--time-scale scales both alike)",
			"fault at %s is not before the end of %s, which lasts %s", humanize.Exact(f.At.D()), label, humanize.Exact(length))
	}
	if !known || !v.m.ok(&f.Fault) {
		return
	}
	name := "`" + kind + "` fault"

	// for: how long the fault lasts, within the scenario.
	switch {
	case !v.m.ok(&f.For):
	case need.forKey && !v.m.has(&f.For):
		v.errs.Add(f.Pos, fmt.Sprintf("add `for: 5s`, how long it lasts, e.g. `%s`", faultExample[kind]), "%s needs `for`", name)
	case need.forKey && f.For <= 0:
		v.errs.Add(v.m.at(&f.For, f.Pos), "give how long the fault lasts, e.g. `for: 5s`", "%s: for must be > 0", name)
	case !need.forKey && v.m.has(&f.For):
		hint := "remove `for`"
		if kind == FaultReset {
			hint += "; to keep the path down for a while, use a `stall` fault"
		}
		v.errs.Add(v.m.at(&f.For, f.Pos), hint, "%s is instant: `for` does not apply", name)
	case f.For.D() > MaxPause:
		v.errs.Add(v.m.at(&f.For, f.Pos), fmt.Sprintf("a fault lasts at most %s", humanize.Exact(MaxPause)),
			"%s: for %s is longer than %s", name, humanize.Exact(f.For.D()), humanize.Exact(MaxPause))
	case lengthKnown && v.m.has(&f.At) && v.m.ok(&f.At) && f.At.D() < length && f.For.D() > length-f.At.D():
		left := length - f.At.D()
		v.errs.Add(v.m.at(&f.For, f.Pos),
			fmt.Sprintf("make `for` at most %s, or start the fault earlier: the fault must end by the end of the scenario", humanize.Exact(left)),
			"%s lasts past the end of %s: from %s, the scenario has %s left, not %s", name, label,
			humanize.Exact(f.At.D()), humanize.Exact(left), humanize.Exact(f.For.D()))
	}

	// add: the latency a latency fault adds.
	switch {
	case !v.m.ok(&f.Add):
	case need.add && !v.m.has(&f.Add):
		v.errs.Add(f.Pos, "add `add: 200ms`, the latency added to every round trip, e.g. `"+faultExample[kind]+"`", "%s needs `add`", name)
	case need.add && f.Add <= 0:
		v.errs.Add(v.m.at(&f.Add, f.Pos), "give the latency added to every round trip, e.g. `add: 200ms`", "%s: add must be > 0", name)
	case need.add && f.Add.D() > MaxLatency:
		v.errs.Add(v.m.at(&f.Add, f.Pos),
			fmt.Sprintf("a round trip slower than %s is an outage: simulate it with a `stall` fault (see Limits in docs/plan-format.md)", humanize.Exact(MaxLatency)),
			"%s: add %s is more than %s", name, humanize.Exact(f.Add.D()), humanize.Exact(MaxLatency))
	case !need.add && v.m.has(&f.Add):
		v.errs.Add(v.m.at(&f.Add, f.Pos), "remove `add`; a `latency` fault adds latency: `"+faultExample[FaultLatency]+"`",
			"%s: `add` applies to latency faults only", name)
	}

	// share: the part of the pool's backends terminate_backends terminates.
	switch {
	case !v.m.ok(&f.Share) || !v.m.has(&f.Share):
	case kind != FaultTerminateBackends:
		v.errs.Add(f.SharePos, "remove `share`; it says how many of the pool's backends a `terminate_backends` fault terminates",
			"%s: `share` applies to terminate_backends faults only", name)
	case !(f.Share > 0) || f.Share > 1:
		v.errs.Add(f.SharePos, "share is the part of the pool's backends to terminate: `50%` terminates half of them, `100%` (the default) all",
			"share must be more than 0%% and at most 100%%, got %s", humanize.Percent(float64(f.Share)))
	}

	// table: the table a lock fault locks.
	switch {
	case !v.m.ok(&f.Table):
	case need.table && !v.m.has(&f.Table):
		v.errs.Add(f.Pos, "add `table:` with the table another session locks, e.g. `"+faultExample[kind]+"`", "%s needs `table`", name)
	case need.table && !isTableName(f.Table):
		v.errs.Add(v.m.at(&f.Table, f.Pos), "write the table's name as in SQL: `accounts`, `app.accounts`, `\"Accounts\"`",
			"%s: %q is not a table name", name, f.Table)
	case !need.table && v.m.has(&f.Table):
		v.errs.Add(v.m.at(&f.Table, f.Pos), "remove `table`; a `lock` fault locks a table: `"+faultExample[FaultLock]+"`",
			"%s: `table` applies to lock faults only", name)
	}

	// Where the fault acts: the network proxy, or the embedded server.
	at := v.m.at(&f.Fault, f.Pos)
	t := &v.p.Target
	switch {
	case need.network && t.Network == nil:
		v.errs.Add(at, "the fault acts on planrun's network proxy between the pool and the server: add `target.network`, e.g. `network: {latency: 1ms}`",
			"%s needs target.network", name)
	case kind == FaultRestart && v.m.has(&t.URL) && strings.TrimSpace(t.URL) != "" && !v.m.urlFromEnv:
		v.errs.Add(at, "restart needs the embedded server: remove target.url",
			"%s restarts the embedded server, but target.url (line %d) names another one", name, v.m.at(&t.URL, Pos{}).Line)
	}
}

// isTableName reports whether s is a plausible table name as SQL writes
// it: one or two dot-separated parts (schema.table), each an unquoted
// identifier (a letter or _, then letters, digits, _ or $) or a
// double-quoted one ("" for a quote inside).
func isTableName(s string) bool {
	parts := 0
	for i := 0; ; parts++ {
		end := identEnd(s, i)
		if end < 0 {
			return false
		}
		if end == len(s) {
			return parts < 2
		}
		if s[end] != '.' {
			return false
		}
		i = end + 1
	}
}

// identEnd returns the offset just after the identifier starting at s[i],
// or -1 when none starts there.
func identEnd(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	if s[i] == '"' {
		for j := i + 1; j < len(s); j++ {
			switch {
			case s[j] == 0:
				return -1
			case s[j] == '"' && j+1 < len(s) && s[j+1] == '"':
				j++
			case s[j] == '"':
				if j == i+1 {
					return -1 // "" is no name
				}
				return j + 1
			}
		}
		return -1
	}
	for j, r := range s[i:] {
		switch {
		case unicode.IsLetter(r) || r == '_':
		case j > 0 && (unicode.IsDigit(r) || r == '$'):
		case j > 0:
			return i + j
		default:
			return -1
		}
	}
	return len(s)
}

// tableKey is a table name in its normalised quoted form, as PostgreSQL
// reads it: an unquoted part folds to lower case and is quoted, a quoted
// part is kept as written (`Accounts`, `accounts` and `"accounts"` are all
// `"accounts"`; `"Accounts"` is another table). Whether `x` and `public.x`
// are one table depends on the search_path when the lock runs, which no
// plan says: they are compared as written, as different names.
func tableKey(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		end := identEnd(s, i)
		if end < 0 {
			return s
		}
		if s[i] == '"' {
			b.WriteString(s[i:end])
		} else {
			b.WriteString(`"` + foldASCII(s[i:end]) + `"`)
		}
		if end < len(s) {
			b.WriteByte('.')
		}
		i = end + 1
	}
	return b.String()
}

// foldASCII lower-cases A–Z only, as PostgreSQL folds an unquoted
// identifier in a UTF-8 database.
func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// overlaps reports a fault whose window overlaps an earlier-written fault
// of the same kind (a lock: on the same table): the proxy or the server
// cannot be stalled, slowed, locked or restarted twice at once.
func (v *validator) overlaps(faults []Fault) {
	usable := func(f *Fault) bool {
		need, known := faultNeeds[f.Fault]
		return known && need.forKey && v.m.ok(f) && v.m.ok(&f.Fault) && v.m.has(&f.At) && v.m.ok(&f.At) &&
			v.m.has(&f.For) && v.m.ok(&f.For) && f.For > 0 && (f.Fault != FaultLock || isTableName(f.Table))
	}
	for i := range faults {
		f := &faults[i]
		if !usable(f) {
			continue
		}
		for j := range i {
			g := &faults[j]
			if !usable(g) || g.Fault != f.Fault || (f.Fault == FaultLock && tableKey(f.Table) != tableKey(g.Table)) {
				continue
			}
			fEnd, gEnd := f.At.D()+f.For.D(), g.At.D()+g.For.D()
			if f.At.D() >= gEnd || g.At.D() >= fEnd {
				continue
			}
			what := "`" + f.Fault + "` fault"
			if f.Fault == FaultLock {
				what += " on " + f.Table
			}
			v.errs.Add(v.m.at(&f.At, f.Pos),
				fmt.Sprintf("faults of one kind must not overlap: start this one at %s or later, or merge the two", humanize.Exact(gEnd)),
				"%s from %s to %s overlaps the one at line %d (%s to %s)", what,
				humanize.Exact(f.At.D()), humanize.Exact(fEnd), g.Pos.Line, humanize.Exact(g.At.D()), humanize.Exact(gEnd))
			break
		}
	}
}
