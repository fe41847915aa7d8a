package compare

import (
	"fmt"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// changes lists what makes the runs less like for like: the target, the
// pool configuration, the plan file and the time scale of the new run
// against the first baseline (and of every other baseline against the
// first), every run that did not complete, and every run whose verdict was
// inconclusive.
func changes(bases []*results.Run, new *results.Run) []string {
	out := differences(bases[0], new, "")
	for i, b := range bases[1:] {
		out = append(out, differences(bases[0], b, fmt.Sprintf("baseline %d vs baseline 1: ", i+2))...)
	}
	for i, r := range bases {
		side := "the base run"
		if len(bases) > 1 {
			side = fmt.Sprintf("baseline %d", i+1)
		}
		out = append(out, incomplete(r, side)...)
		out = append(out, inconclusive(r, side)...)
	}
	out = append(out, incomplete(new, "the new run")...)
	return append(out, inconclusive(new, "the new run")...)
}

// inconclusive flags a run whose verdict was INCONCLUSIVE: some of its
// figures were within its own measurement error of their thresholds (its
// machine was short of CPU), so they say as much about the machine as about
// the pool.
func inconclusive(r *results.Run, side string) []string {
	if !r.Verdict.Inconclusive {
		return nil
	}
	s := "verdict: " + side + " was INCONCLUSIVE, some of its figures were within its own measurement error"
	if r.Verdict.Reason != "" {
		s += " (" + r.Verdict.Reason + ")"
	}
	return []string{s}
}

// differences lists what differs between run a and run b, one line per
// kind (target, pool, plan, time scale), each with the prefix.
func differences(a, b *results.Run, prefix string) []string {
	var out []string
	add := func(kind string, parts []string) {
		if len(parts) > 0 {
			out = append(out, prefix+kind+": "+strings.Join(parts, "; "))
		}
	}
	add("target", targetDiff(a.Target, b.Target))
	add("pool", poolDiff(a.Pool, b.Pool))
	var plan []string
	if a.Plan.Name != b.Plan.Name || a.Plan.File != b.Plan.File {
		plan = append(plan, fmt.Sprintf("%s (%s) → %s (%s)", a.Plan.Name, a.Plan.File, b.Plan.Name, b.Plan.File))
	}
	if a.Plan.SHA256 != "" && b.Plan.SHA256 != "" && a.Plan.SHA256 != b.Plan.SHA256 {
		plan = append(plan, fmt.Sprintf("the file differs, sha256 %s → %s", short(a.Plan.SHA256), short(b.Plan.SHA256)))
	}
	add("plan", plan)
	if a.TimeScale != b.TimeScale {
		add("time scale", []string{fmt.Sprintf("%g → %g", a.TimeScale, b.TimeScale)})
	}
	return out
}

// targetDiff lists the differences of the server under load: embedded or
// not (and its URL when neither is embedded: an embedded server gets a new
// port every run), TLS, server version, replicas, driver, max_connections.
func targetDiff(a, b results.Target) []string {
	var d []string
	switch {
	case a.Embedded != b.Embedded:
		d = append(d, targetName(a)+" → "+targetName(b))
	case !a.Embedded && a.URL != b.URL:
		d = append(d, orUnknown(a.URL)+" → "+orUnknown(b.URL))
	}
	if a.TLS != b.TLS {
		d = append(d, "TLS "+onOff(a.TLS)+" → "+onOff(b.TLS))
	}
	if a.ServerVersion != b.ServerVersion {
		d = append(d, fmt.Sprintf("server %s → %s", orUnknown(a.ServerVersion), orUnknown(b.ServerVersion)))
	}
	if a.Replicas != b.Replicas {
		d = append(d, fmt.Sprintf("replicas %s → %s", humanize.Int(int64(a.Replicas)), humanize.Int(int64(b.Replicas))))
	}
	if a.Driver != b.Driver {
		d = append(d, fmt.Sprintf("driver %s → %s", orUnknown(a.Driver), orUnknown(b.Driver)))
	}
	if a.MaxConnections != b.MaxConnections && a.MaxConnections != 0 && b.MaxConnections != 0 {
		d = append(d, fmt.Sprintf("max_connections %s → %s", humanize.Int(int64(a.MaxConnections)), humanize.Int(int64(b.MaxConnections))))
	}
	return d
}

func targetName(t results.Target) string {
	if t.Embedded {
		return "embedded server"
	}
	return orUnknown(t.URL)
}

// poolDiff lists the pool settings that differ.
func poolDiff(a, b results.Pool) []string {
	var d []string
	ints := func(name string, x, y int) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %s → %s", name, humanize.Int(int64(x)), humanize.Int(int64(y))))
		}
	}
	durs := func(name string, x, y time.Duration) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %s → %s", name, humanize.Duration(x), humanize.Duration(y)))
		}
	}
	ints("size", a.Size, b.Size)
	ints("max_overflow", a.MaxOverflow, b.MaxOverflow)
	durs("timeout", a.Timeout, b.Timeout)
	durs("recycle", a.Recycle, b.Recycle)
	if a.PrePing != b.PrePing {
		d = append(d, fmt.Sprintf("pre_ping %t → %t", a.PrePing, b.PrePing))
	}
	durs("connect_timeout", a.ConnectTimeout, b.ConnectTimeout)
	durs("leak_threshold", a.LeakThreshold, b.LeakThreshold)
	strs := func(name, x, y string) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %s → %s", name, orDefault(x), orDefault(y)))
		}
	}
	strs("isolation_level", a.IsolationLevel, b.IsolationLevel)
	strs("reset_on_return", a.ResetOnReturn, b.ResetOnReturn)
	if a.UseLIFO != b.UseLIFO {
		d = append(d, fmt.Sprintf("use_lifo %t → %t", a.UseLIFO, b.UseLIFO))
	}
	return d
}

// incomplete says when a run did not complete.
func incomplete(r *results.Run, side string) []string {
	if r.Status == "" || r.Status == results.StatusCompleted {
		return nil
	}
	s := fmt.Sprintf("status: %s did not complete (%s)", side, r.Status)
	if r.StatusReason != "" {
		s += ": " + r.StatusReason
	}
	return []string{s}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func joinNames(names []string) string { return strings.Join(names, ", ") }

// orDefault shows an unset pool setting as the default it stands for.
func orDefault(s string) string {
	if s == "" {
		return "(default)"
	}
	return s
}
