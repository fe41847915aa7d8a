package assertions

// A watch (planrun watch: results.Scenario.Watch) samples the service's
// pool from the server for hours, with no load. Only the figures the
// server shows are measured there (results.WatchMeasures: service.*,
// elapsed, scenario): every plan assertion is judged on the watch
// whatever scenarios it lists, and one that reads a figure of the load
// (ops, errors, latencies, planrun's own pool, recovery...) is shown not
// applicable, never passed.

import (
	"fmt"

	"github.com/planrun/planrun/results"
)

// appliesOn reports whether c is judged on sc: a scenario it applies to,
// or a watch, which stands for every scenario of the plan.
func (c *compiled) appliesOn(sc *results.Scenario) bool {
	return sc.Watch || c.appliesTo(sc.Name)
}

// watchRead returns the first name c reads that a watch does not
// measure, "" when it reads only what a watch measures.
func (c *compiled) watchRead() string {
	for _, r := range c.refs { // operations.*, baseline.* included: not the watch's
		if !results.WatchMeasures(r) {
			return r
		}
	}
	if len(c.faultRefs) > 0 {
		return c.faultRefs[0].String()
	}
	return ""
}

// watchReason says why c is not judged on sc, a watch, or "" when it is
// (or sc is no watch).
func watchReason(c *compiled, sc *results.Scenario) string {
	if !sc.Watch {
		return ""
	}
	if name := c.watchRead(); name != "" {
		return fmt.Sprintf("not applicable: the watch measures the server side only (`%s` reads the load; the watch's figures are service.*)", name)
	}
	return ""
}
