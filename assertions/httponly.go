package assertions

// Scenarios that send only HTTP requests (a mix of `http:` operations to
// target.service): planrun's own pool takes no load there, so the figures
// that read it (results.OwnPoolRoots: acquire, query, hold, connect,
// connections, utilization, exhaustion, leaks, replicas, and errors_by's
// SQL categories) are zeros standing for nothing. An assertion that could
// only ever read them there is a plan error; one that applies to SQL
// scenarios too is not judged on the HTTP-only ones (skipped, not
// applicable). The service's own pool is service.*.

import (
	"fmt"
	"strings"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// readsOwnPool reports whether name (baseline.* included) reads planrun's
// own pool, as a scenario figure or an operation's (operations.<name>.acquire,
// .query, .hold).
func readsOwnPool(name string) bool {
	if _, _, member, ok := opRef(name); ok {
		return results.ReadsOwnPool(member)
	}
	return results.ReadsOwnPool(strings.TrimPrefix(name, "baseline."))
}

// ownPoolRead returns the first name c reads of planrun's own pool, of the
// scenario itself (baseline false) or of the baseline's; "" when none.
func (c *compiled) ownPoolRead(baseline bool) string {
	for _, r := range c.refs {
		if strings.HasPrefix(r, "baseline.") == baseline && readsOwnPool(r) {
			return r
		}
	}
	return ""
}

// httpOnlyReason says why a check is not judged on a scenario that sends
// only HTTP requests (sc.HTTPOnly), or on one whose baseline's scenario did,
// or "" when it is judged: it reads planrun's own pool there.
func httpOnlyReason(c *compiled, sc, base *results.Scenario) string {
	if name := c.ownPoolRead(false); name != "" && sc.HTTPOnly {
		return fmt.Sprintf("not applicable: scenario %s sends only HTTP requests, so planrun's own pool took no load (`%s` reads it); "+
			"the service's pool is service.*", sc.Name, name)
	}
	if name := c.ownPoolRead(true); name != "" && base != nil && base.HTTPOnly {
		return fmt.Sprintf("not applicable: the baseline's scenario %s sent only HTTP requests, so its planrun pool took no load (`%s` reads it)", base.Name, name)
	}
	return ""
}

// httpOnlyScope returns the scenarios assertion a applies to (those it
// lists, or every scenario of the plan) when each of them sends only HTTP
// requests, in that order; nil when one has a SQL operation or a ran
// scenario the plan does not know (the schema reports an unknown one).
func (pc *planContext) httpOnlyScope(a schema.Assertion) []string {
	names := a.Scenarios
	if len(names) == 0 {
		names = pc.scenOrder
	}
	var out []string
	for _, n := range names {
		if _, known := pc.scens[n]; !known {
			continue
		}
		if !pc.httpOnly[n] {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// checkOwnPoolRead reports, as a plan error at the name, a read of
// planrun's own pool that could never be measured: every scenario the
// assertion applies to sends only HTTP requests (cs.onlyHTTP), or the
// name is an operation's pool figure and that operation is an HTTP
// request in every mix that has it. It returns false when it reported one.
func checkOwnPoolRead(cs *checkSource, name string, from int, errs *schema.Errors) bool {
	if _, op, member, isOp := opRef(name); isOp {
		if cs.pc.httpOps[op] && results.ReadsOwnPool(member) {
			cs.errorf(errs, from, "an HTTP operation's latency is op.* (its request, which includes the service's wait for a connection and its queries): write `"+
				strings.TrimSuffix(name, member)+"op.p95`, or read the service's pool (service.*)",
				"`%s` reads planrun's own pool, but operation %q is an HTTP request: it never takes a connection of planrun's pool, so this could never be measured", name, op)
			return false
		}
		return true
	}
	if len(cs.onlyHTTP) == 0 || !readsOwnPool(name) {
		return true
	}
	var whose string
	switch {
	case len(cs.onlyHTTP) == 1:
		whose = "its scenario " + cs.onlyHTTP[0] + " sends"
	case len(cs.scenarios) == 0:
		whose = "every scenario of the plan (" + strings.Join(cs.onlyHTTP, ", ") + ") sends"
	default:
		whose = "its scenarios (" + strings.Join(cs.onlyHTTP, ", ") + ") send"
	}
	cs.errorf(errs, from, ownPoolHint(name),
		"`%s` reads planrun's own pool, but %s only HTTP requests: planrun's pool takes no load there, so it could never be measured", name, whose)
	return false
}

// ownPoolHint says what to read instead of name, a figure of planrun's own
// pool, on a scenario that sends only HTTP requests.
func ownPoolHint(name string) string {
	base := ""
	if strings.HasPrefix(name, "baseline.") {
		base = "baseline."
	}
	root, rest, _ := strings.Cut(strings.TrimPrefix(name, base), ".")
	switch root {
	case "utilization":
		if rest == "" {
			rest = "p95"
		}
		return "the service's pool is service.*: write `" + base + "service.utilization." + rest + "`"
	case "leaks":
		return "the service's leaks are service.leaks: write `" + base + "service.leaks`"
	case "connections":
		switch rest {
		case "opened", "closed", "max_open":
			return "the service's connections (counted at planrun's proxy) are service.connections.*: write `" + base + "service.connections." + rest + "`"
		}
		return "the service's pool is service.*: service.connections.opened, closed and max_open count its connections"
	case "exhaustion", "replicas":
		return "the service's pool is service.*: `service.utilization.max == 1` says it filled, `service.in_use.max <= service.capacity` that it kept to its size; " +
			"its checkout timeouts come back as errors_by.http_5xx"
	case "errors_by":
		return "an HTTP operation's failures are errors_by.http_5xx, http_4xx, http_timeout and http_connect"
	}
	// acquire, query, hold, connect
	return "a request's latency is op.* (e.g. `op.p95`), which includes the service's wait for a connection and its queries; the service's pool is service.*"
}
