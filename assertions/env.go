// Package assertions judges a run: it compiles a plan's assertions (expr-lang
// expressions) and planrun's built-in checks against a typed environment,
// evaluates them on the results, and gives the outcomes, the verdict and its
// production certificate.
//
// The environment is the results types themselves: every field of
// [results.Scenario] (and the types it holds) with an `expr` tag is a name an
// assertion can read, plus the few names derived here (recovery, recovered,
// operations.<name>, pool.capacity, faults[i].recovery and
// faults[i].recovered) and the run's context (pool, server, preflight).
// [results.Pool] and [results.Fault] are read themselves, embedded beside
// their derived names.
// docs/assertions.md is the user-facing reference of every name; [Names]
// lists them and a test keeps the two in step.
package assertions

import (
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/planrun/planrun/results"
)

// Env is what one evaluation of an assertion sees: the figures of one
// scenario (embedded [ScenarioEnv]), the run's context and the baseline
// run's scenario of the same name. Durations are time.Duration, rates
// fractions 0..1.
type Env struct {
	ScenarioEnv

	// Pool is the pool configuration under test.
	Pool PoolEnv `expr:"pool"`
	// Driver is the database driver ("pgx").
	Driver string `expr:"driver"`
	// ServerVersion is the server's version string (same as server.version).
	ServerVersion string `expr:"server_version"`
	// Server describes the server under load.
	Server ServerEnv `expr:"server"`
	// RTT is the median round trip of the preflight pings (0 when not measured).
	RTT time.Duration `expr:"rtt"`
	// Preflight holds the status of each preflight check: "pass", "warn",
	// "fail", or "" when the check did not run.
	Preflight PreflightEnv `expr:"preflight"`
	// Baseline is the baseline run's scenario of the same name (--baseline).
	// An assertion that references it is skipped when there is none.
	Baseline ScenarioEnv `expr:"baseline"`
}

// ScenarioEnv is one scenario's figures: the [results.Scenario] itself (its
// expr-tagged fields: acquire, ops, success_rate, errors_by, leaks, ...) and
// the names derived from it.
type ScenarioEnv struct {
	results.Scenario

	// RecoveryTime is the scenario's Recovery.Duration (0 without one).
	RecoveryTime time.Duration `expr:"recovery"`
	// Recovered is Recovery.Recovered() (true without a recovery).
	Recovered bool `expr:"recovered"`
	// ByOperation is Scenario.Operations by name.
	ByOperation map[string]results.Operation `expr:"operations"`
	// WorstReplica holds, for each pool figure, the worst replica's value
	// (replicas.utilization.max, replicas.exhaustion.timeouts, ...); the
	// scenario's own figures are the totals over every replica.
	WorstReplica ReplicaEnv `expr:"replicas"`
	// Faults are the scenario's scheduled faults in plan order, read as
	// faults[0], faults[1], ... (from 0, as expr counts; reports number
	// them from 1).
	Faults []FaultEnv `expr:"faults"`
}

// ReplicaEnv is the worst replica of each pool figure: the highest
// utilization, exhaustion, timeouts and open connections of any replica.
type ReplicaEnv struct {
	Utilization results.Utilization `expr:"utilization"`
	Exhaustion  results.Exhaustion  `expr:"exhaustion"`
	MaxOpen     int                 `expr:"max_open"`
}

// worstReplica takes the worst of each figure over reps.
func worstReplica(reps []results.Replica) ReplicaEnv {
	var w ReplicaEnv
	for _, r := range reps {
		u, e := r.Utilization, r.Exhaustion
		w.Utilization.Mean = max(w.Utilization.Mean, u.Mean)
		w.Utilization.P95 = max(w.Utilization.P95, u.P95)
		w.Utilization.Max = max(w.Utilization.Max, u.Max)
		w.Exhaustion.Events = max(w.Exhaustion.Events, e.Events)
		w.Exhaustion.Total = max(w.Exhaustion.Total, e.Total)
		w.Exhaustion.Longest = max(w.Exhaustion.Longest, e.Longest)
		w.Exhaustion.Timeouts = max(w.Exhaustion.Timeouts, e.Timeouts)
		w.Exhaustion.Share = max(w.Exhaustion.Share, e.Share)
		w.MaxOpen = max(w.MaxOpen, r.MaxOpen)
	}
	return w
}

// FaultEnv is one fault as assertions read it: the [results.Fault] itself
// (faults[i].kind, faults[i].status) and the names derived from its
// recovery.
type FaultEnv struct {
	results.Fault

	// RecoveryTime is Fault.RecoveryTime(): the recovery time after the
	// fault (0 without one).
	RecoveryTime time.Duration `expr:"recovery"`
	// Recovered is Fault.Recovered(): whether the pool recovered (false
	// when the fault failed or was not reached, or the pool did not
	// recover).
	Recovered bool `expr:"recovered"`
}

// PoolEnv is the pool configuration under test: the [results.Pool] itself
// (pool.size, pool.timeout, ...) and pool.capacity.
type PoolEnv struct {
	results.Pool

	// Capacity is Pool.Capacity(): size + max_overflow.
	Capacity int `expr:"capacity"`
}

// ServerEnv describes the server under load.
type ServerEnv struct {
	// MaxConnections is the server's max_connections (0 when unknown).
	MaxConnections int    `expr:"max_connections"`
	Version        string `expr:"version"`
}

// PreflightEnv holds each preflight check's status by name. The statuses are
// plain strings so that checks compare them with string literals.
type PreflightEnv struct {
	Reachability string `expr:"reachability"`
	Server       string `expr:"server"`
	RTT          string `expr:"rtt"`
	Capacity     string `expr:"capacity"`
	Timeouts     string `expr:"timeouts"`
	Consistency  string `expr:"consistency"`
}

// nameInfo is what the package knows of one name of the environment.
type nameInfo struct {
	index []int        // reflect field index path from Env
	typ   reflect.Type // the value's type
	leaf  bool         // a value, not a group of values
	key   string       // for a member of a counted map (errors_by.query): its key
	// fraction: a rate from 0 to 1 (the field's tag unit:"fraction"), shown
	// as a percentage and never compared with a number above 1.
	fraction bool
}

// mapKeys lists the keys of the environment's count maps, so that their
// members are names like any other (checked when a plan loads).
var mapKeys = map[string][]string{
	"errors_by":             results.ErrorCategories,
	"connections.closed_by": results.CloseReasons,
}

// Names under baseline that are not offered: the baseline's scenario has the
// same name, and per-operation baselines are reached through
// operations (below), not listed.
var hiddenNames = map[string]bool{"baseline.scenario": true}

// opRoot is the group of per-operation figures, operations.<name>.<member>.
const opRoot = "operations"

var (
	envType      = reflect.TypeOf(Env{})
	durationType = reflect.TypeOf(time.Duration(0))
	// names maps every dotted name, groups included ("acquire", "acquire.p95").
	names = map[string]nameInfo{}
	// leafNames lists the value names in declaration order.
	leafNames []string
	// opNames maps the members of one operation ("op.p95", "ops") and
	// opLeafNames lists its values.
	opNames     = map[string]nameInfo{}
	opLeafNames []string
)

func init() {
	indexNames(names, &leafNames, envType, "", nil)
	indexNames(opNames, &opLeafNames, reflect.TypeOf(results.Operation{}), "", nil)
}

// indexNames walks t's fields by their expr tags and records every name.
// Fields without an expr tag are not part of the environment.
func indexNames(into map[string]nameInfo, leaves *[]string, t reflect.Type, prefix string, index []int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous {
			indexNames(into, leaves, f.Type, prefix, idx)
			continue
		}
		tag := f.Tag.Get("expr")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + tag
		if hiddenNames[name] {
			continue
		}
		switch {
		case name == opRoot || strings.HasSuffix(name, "."+opRoot):
			into[name] = nameInfo{index: idx, typ: f.Type}
		case f.Type.Kind() == reflect.Map:
			into[name] = nameInfo{index: idx, typ: f.Type}
			for _, k := range mapKeys[strings.TrimPrefix(name, "baseline.")] {
				into[name+"."+k] = nameInfo{index: idx, typ: f.Type.Elem(), leaf: true, key: k}
				*leaves = append(*leaves, name+"."+k)
			}
		case f.Type.Kind() == reflect.Struct && f.Type != durationType:
			into[name] = nameInfo{index: idx, typ: f.Type}
			indexNames(into, leaves, f.Type, name+".", idx)
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			// An optional group (service): nil when the scenario has none;
			// notMeasured skips a check that reads it then.
			into[name] = nameInfo{index: idx, typ: f.Type.Elem()}
			indexNames(into, leaves, f.Type.Elem(), name+".", idx)
		default:
			into[name] = nameInfo{index: idx, typ: f.Type, leaf: true, fraction: f.Tag.Get("unit") == "fraction"}
			*leaves = append(*leaves, name)
		}
	}
}

// Names lists every name the environment offers, in reference order
// (scenario figures, context, then baseline.*). Groups such as `acquire` are
// not listed, only their members (`acquire.p95`); nor are the per-operation
// names, which depend on the plan: see [OperationMembers].
func Names() []string {
	return append([]string(nil), leafNames...)
}

// OperationMembers lists what `operations.<name>.` offers for each operation
// of the plan's mixes ("acquire.p95", "ops", "success_rate", ...).
func OperationMembers() []string {
	return append([]string(nil), opLeafNames...)
}

// membersOf lists the leaf names directly under group, sorted.
func membersOf(group string) []string {
	var out []string
	for _, n := range leafNames {
		if rest, ok := strings.CutPrefix(n, group+"."); ok && !strings.Contains(rest, ".") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// opMembersOf lists the members of an operation directly under group
// ("" for the operation itself), sorted.
func opMembersOf(group string) []string {
	var out []string
	for _, n := range opLeafNames {
		rest := n
		if group != "" {
			var ok bool
			if rest, ok = strings.CutPrefix(n, group+"."); !ok {
				continue
			}
		}
		if !strings.Contains(rest, ".") {
			out = append(out, n)
		} else if group == "" {
			g, _, _ := strings.Cut(rest, ".")
			if len(out) == 0 || out[len(out)-1] != g {
				out = append(out, g)
			}
		}
	}
	sort.Strings(out)
	return out
}

// opRef splits a per-operation name ("operations.checkout.op.p95", or the
// same under baseline.) into the scenario figures it reads from, the
// operation's name and the member.
func opRef(name string) (baseline bool, op, member string, ok bool) {
	rest := name
	if r, found := strings.CutPrefix(rest, "baseline."); found {
		baseline, rest = true, r
	}
	rest, found := strings.CutPrefix(rest, opRoot+".")
	if !found {
		return false, "", "", false
	}
	// An operation name may contain dots when written operations["a.b"];
	// the member is the longest known suffix.
	for i := 0; i < len(rest); i++ {
		if rest[i] == '.' {
			if _, known := opNames[rest[i+1:]]; known {
				return baseline, rest[:i], rest[i+1:], true
			}
		}
	}
	return false, "", "", false
}

// value returns the value of a known name in env.
func (e *Env) value(name string) (any, bool) {
	if baseline, op, member, ok := opRef(name); ok {
		sc := &e.ScenarioEnv
		if baseline {
			sc = &e.Baseline
		}
		o, found := sc.ByOperation[op]
		if !found {
			return nil, false
		}
		return reflect.ValueOf(o).FieldByIndex(opNames[member].index).Interface(), true
	}
	info, ok := names[name]
	if !ok || !info.leaf {
		return nil, false
	}
	v, err := reflect.ValueOf(e).Elem().FieldByIndexErr(info.index)
	if err != nil { // under a nil optional group
		return reflect.Zero(info.typ).Interface(), true
	}
	if info.key != "" {
		if v.IsNil() {
			return reflect.Zero(info.typ).Interface(), true
		}
		m := v.MapIndex(reflect.ValueOf(info.key))
		if !m.IsValid() {
			return reflect.Zero(info.typ).Interface(), true
		}
		return m.Interface(), true
	}
	return v.Interface(), true
}

// newEnv builds the environment of one scenario (nil: a run-level
// evaluation, which reads no scenario figure). baseline may be nil.
func newEnv(run *results.Run, sc *results.Scenario, baseline *results.Scenario) Env {
	env := Env{
		Driver:        run.Target.Driver,
		ServerVersion: run.Target.ServerVersion,
		Server:        ServerEnv{MaxConnections: run.Target.MaxConnections, Version: run.Target.ServerVersion},
		RTT:           run.Target.RTT,
		Pool:          PoolEnv{Pool: run.Pool, Capacity: run.Pool.Capacity()},
		Preflight:     preflightOf(run.Preflight),
	}
	if sc != nil {
		env.ScenarioEnv = scenarioEnv(sc)
	}
	if baseline != nil {
		env.Baseline = scenarioEnv(baseline)
	}
	return env
}

// scenarioEnv wraps a scenario's results with the names derived from them.
func scenarioEnv(sc *results.Scenario) ScenarioEnv {
	e := ScenarioEnv{Scenario: *sc, Recovered: true}
	if sc.Recovery != nil {
		e.RecoveryTime = sc.Recovery.Duration
		e.Recovered = sc.Recovery.Recovered()
	}
	e.WorstReplica = worstReplica(sc.Replicas)
	if len(sc.Replicas) == 0 { // a report from before replicas were pools: one pool
		e.WorstReplica = ReplicaEnv{Utilization: sc.Utilization, Exhaustion: sc.Exhaustion, MaxOpen: sc.Connections.MaxOpen}
	}
	for _, f := range sc.Faults {
		e.Faults = append(e.Faults, FaultEnv{Fault: f, RecoveryTime: f.RecoveryTime(), Recovered: f.Recovered()})
	}
	if len(sc.Operations) > 0 {
		e.ByOperation = make(map[string]results.Operation, len(sc.Operations))
		for _, o := range sc.Operations {
			e.ByOperation[o.Name] = o
		}
	}
	return e
}

// preflightCheck is one preflight check's name and status ("" when it did not run).
type preflightCheck struct{ name, status string }

// preflightChecks lists the checks of p, in the order of its fields.
func preflightChecks(p PreflightEnv) []preflightCheck {
	return []preflightCheck{
		{"reachability", p.Reachability}, {"server", p.Server}, {"rtt", p.RTT},
		{"capacity", p.Capacity}, {"timeouts", p.Timeouts}, {"consistency", p.Consistency},
	}
}

func preflightOf(checks []results.Check) PreflightEnv {
	var p PreflightEnv
	for _, c := range checks {
		s := string(c.Status)
		switch c.Name {
		case "reachability":
			p.Reachability = s
		case "server":
			p.Server = s
		case "rtt":
			p.RTT = s
		case "capacity":
			p.Capacity = s
		case "timeouts":
			p.Timeouts = s
		case "consistency":
			p.Consistency = s
		}
	}
	return p
}
