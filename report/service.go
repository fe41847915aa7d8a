package report

import (
	"fmt"
	"strconv"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// The service section: the service under test's figures (target.service,
// results.Service; docs/metrics.md, "The service under test") as every
// renderer shows them under a scenario that has one.

// serviceRow is one line of the service section: a label, its value, and
// whether the value is bad news (a leak, backends not found, a check not
// made), which the renderers mark.
type serviceRow struct {
	name, value string
	bad         bool
}

// serviceRows lists the section's lines. When the service's backends were
// not found it says so and shows no figure: they would be zeros standing
// for nothing.
func serviceRows(v *results.Service, watch bool) []serviceRow {
	rows := []serviceRow{{"application_name", v.ApplicationName, false}}
	if v.NotFound != "" {
		return append(rows, serviceRow{"not found", v.NotFound + " (no service figure was measured)", true})
	}
	level := func(l results.ServiceLevel) string {
		return fmt.Sprintf("%s / %s / %s", humanize.Int(int64(l.Max)), humanize.Int(int64(l.P95)), strconv.FormatFloat(l.Mean, 'f', 1, 64))
	}
	util := "no capacity given"
	if v.Capacity > 0 {
		u := v.Utilization
		util = fmt.Sprintf("%s / %s / %s of %s", humanize.Percent(u.Max), humanize.Percent(u.P95), humanize.Percent(u.Mean),
			plural(int64(v.Capacity), "connection", "connections"))
	}
	leaks := serviceRow{"leaks", humanize.Int(int64(v.Leaks)), v.Leaks > 0}
	switch {
	case watch: // a watch has no load to drain: its leaks are the held ones
		leaks.value += " (idle in transaction past the leak threshold)"
	case v.DrainNotChecked != "" || !v.DrainChecked:
		why := v.DrainNotChecked
		if why == "" {
			why = "not made"
		}
		leaks.value += " (held only: the check after the drain was not made: " + why + ")"
		leaks.bad = true
	}
	conns := "not counted (planrun did not start the service behind its proxy)"
	if watch {
		conns = "not counted (a watch has no proxy: see backends)"
	}
	if c := v.Connections; c != (results.ServiceConnections{}) {
		conns = fmt.Sprintf("%s / %s / %s at planrun's proxy", humanize.Int(c.Opened), humanize.Int(c.Closed), humanize.Int(int64(c.MaxOpen)))
	}
	samples := humanize.Int(int64(v.Samples)) + " every " + humanize.Duration(v.Interval)
	missed := false
	if v.Missed > 0 {
		samples += ", " + humanize.Int(int64(v.Missed)) + " missed"
		if v.MissedReason != "" {
			samples += " (first: " + v.MissedReason + ")"
		}
		missed = true
	}
	return append(rows,
		serviceRow{"backends max / p95 / mean", level(v.Backends), false},
		serviceRow{"in use max / p95 / mean", level(v.InUse), false},
		serviceRow{"utilization max / p95 / mean", util, false},
		serviceRow{"idle in transaction max", humanize.Duration(v.IdleInTransaction.Max), false},
		serviceRow{"lock waits max", humanize.Int(int64(v.LockWaits.Max)), false},
		saturation(v),
		serviceRow{"server headroom min", plural(int64(v.Headroom.Min), "free slot", "free slots"), false},
		leaks,
		serviceRow{"connections opened / closed / max open", conns, false},
		serviceRow{"samples", samples, missed},
	)
}

// saturation is the row of the episodes at capacity: how many, and the
// longest.
func saturation(v *results.Service) serviceRow {
	switch {
	case v.Capacity == 0:
		return serviceRow{"at capacity", "no capacity given", false}
	case v.Saturation.Episodes == 0:
		return serviceRow{"at capacity", "never", false}
	}
	return serviceRow{"at capacity", fmt.Sprintf("%s, the longest %s", plural(int64(v.Saturation.Episodes), "episode", "episodes"),
		humanize.Duration(v.Saturation.Longest)), false}
}

// serviceLeakHeader heads the table of the service's leaks.
var serviceLeakHeader = []string{"pid", "kind", "state", "age", "query"}

// serviceLeakRows lists the service's detailed leaks (at most
// results.MaxServiceLeakDetails), and a last row counting those not
// detailed.
func serviceLeakRows(v *results.Service) [][]string {
	var rows [][]string
	for _, l := range v.LeakDetails {
		rows = append(rows, []string{strconv.Itoa(l.PID), l.Kind, l.State, humanize.Duration(l.Age), l.Query})
	}
	if extra := v.Leaks - len(v.LeakDetails); extra > 0 && len(rows) > 0 {
		rows = append(rows, []string{"", fmt.Sprintf("%d more not detailed", extra), "", "", ""})
	}
	return rows
}

// anyService reports whether a scenario has the service's record.
func anyService(scenarios []results.Scenario) bool {
	for _, s := range scenarios {
		if s.Service != nil {
			return true
		}
	}
	return false
}
