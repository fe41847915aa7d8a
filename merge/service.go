package merge

import (
	"github.com/planrun/planrun/results"
)

// service merges the service under test's record (nil when no segment has
// one). Every segment watches the same server, which shows each of them the
// service whole, so its levels and leaks are not summed: the largest
// segment's (headroom the smallest, means weighted by samples); only the
// connections, counted at each segment's own proxy, are summed. A segment
// whose watch did not find the service's backends adds its note (and no
// figure); so does one whose drain check was not made.
func service(parts []part, sum *adder) (*results.Service, error) {
	var out *results.Service
	var inUseSum, backendsSum, utilSum float64
	found := 0
	for _, p := range parts {
		s := p.sc.Service
		if s == nil {
			continue
		}
		sum.file = p.in.File
		if out == nil {
			out = &results.Service{ApplicationName: s.ApplicationName, Interval: s.Interval, DrainChecked: true}
		}
		out.Missed = sum.addInt("service.missed", out.Missed, s.Missed)
		if s.MissedReason != "" && out.MissedReason == "" {
			out.MissedReason = label(p.in) + ": " + s.MissedReason
		}
		if s.NotFound != "" {
			if out.NotFound == "" {
				out.NotFound = label(p.in) + ": " + s.NotFound
			}
			continue
		}
		if !s.DrainChecked {
			out.DrainChecked = false
			if s.DrainNotChecked != "" && out.DrainNotChecked == "" {
				out.DrainNotChecked = label(p.in) + ": " + s.DrainNotChecked
			}
		}
		out.Capacity = max(out.Capacity, s.Capacity)
		c := &out.Connections
		c.Opened = sum.add("service.connections.opened", c.Opened, s.Connections.Opened)
		c.Closed = sum.add("service.connections.closed", c.Closed, s.Connections.Closed)
		c.MaxOpen = sum.addInt("service.connections.max_open", c.MaxOpen, s.Connections.MaxOpen)
		out.IdleInTransaction.Max = max(out.IdleInTransaction.Max, s.IdleInTransaction.Max)
		if s.Leaks > out.Leaks {
			out.Leaks, out.LeakDetails = s.Leaks, append([]results.ServiceLeak(nil), s.LeakDetails...)
		}
		if s.Samples == 0 {
			continue // no level was sampled: its zeros stand for nothing
		}
		out.Samples = sum.addInt("service.samples", out.Samples, s.Samples)
		n := float64(s.Samples)
		backendsSum += s.Backends.Mean * n
		inUseSum += s.InUse.Mean * n
		utilSum += s.Utilization.Mean * n
		out.Backends.Max, out.Backends.P95 = max(out.Backends.Max, s.Backends.Max), max(out.Backends.P95, s.Backends.P95)
		out.InUse.Max, out.InUse.P95 = max(out.InUse.Max, s.InUse.Max), max(out.InUse.P95, s.InUse.P95)
		out.Utilization.Max, out.Utilization.P95 = max(out.Utilization.Max, s.Utilization.Max), max(out.Utilization.P95, s.Utilization.P95)
		out.LockWaits.Max = max(out.LockWaits.Max, s.LockWaits.Max)
		out.Saturation.Episodes = max(out.Saturation.Episodes, s.Saturation.Episodes)
		out.Saturation.Longest = max(out.Saturation.Longest, s.Saturation.Longest)
		if found == 0 || s.Headroom.Min < out.Headroom.Min {
			out.Headroom.Min = s.Headroom.Min
		}
		found++
	}
	if out != nil && out.Samples > 0 {
		n := float64(out.Samples)
		out.Backends.Mean, out.InUse.Mean, out.Utilization.Mean = backendsSum/n, inUseSum/n, utilSum/n
	}
	if out != nil && !out.DrainChecked && out.DrainNotChecked == "" && out.NotFound == "" {
		out.DrainNotChecked = "a segment's check after the drain was not made"
	}
	return out, sum.err
}
