// Package assertions judges a run: it compiles a plan's assertions (expr-lang
// expressions) against a typed environment of per-scenario metrics, evaluates
// them on the results, and gives the verdict and its production certificate.
//
// docs/assertions.md is the user-facing reference of every name an assertion
// can see; [Names] lists them and a test keeps the two in step.
package assertions

import (
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/planrun/planrun/results"
)

// Env is what one evaluation of an assertion sees: the figures of one scenario
// (embedded [Metrics]), the run's context and the baseline run's scenario of
// the same name. Durations are time.Duration, rates fractions 0..1.
type Env struct {
	Metrics

	// Scenario is the scenario's name.
	Scenario string `expr:"scenario"`
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
	Baseline Metrics `expr:"baseline"`
}

// Metrics are the figures of one scenario.
type Metrics struct {
	// Acquire: time to get a connection from the pool (timeouts included, at their wait time).
	Acquire LatencyEnv `expr:"acquire"`
	// Query: each statement's server round trip.
	Query LatencyEnv `expr:"query"`
	// Op: one whole operation: acquire + statements (+ transaction) + hold.
	Op LatencyEnv `expr:"op"`
	// Hold: how long each checkout kept its connection (acquire to release).
	Hold LatencyEnv `expr:"hold"`
	// Connect: time to open a new server connection.
	Connect LatencyEnv `expr:"connect"`

	// Ops counts every attempted operation, failed ones included.
	Ops int64 `expr:"ops"`
	// Errors counts the failed operations.
	Errors int64 `expr:"errors"`
	// SuccessRate is 1 − errors/ops (1 when ops is 0), a fraction 0..1.
	SuccessRate float64 `expr:"success_rate"`
	// Throughput is successful operations per second.
	Throughput float64 `expr:"throughput"`
	// ErrorsBy counts failures by category.
	ErrorsBy ErrorsByEnv `expr:"errors_by"`

	// Leaks counts connections held longer than pool.leak_threshold or still
	// checked out when the scenario ended.
	Leaks int `expr:"leaks"`
	// Recovery is the time from the end of stage recovery_after until the pool
	// was healthy again; when it never was, the time until the scenario's end.
	Recovery time.Duration `expr:"recovery"`
	// Recovered is false when the pool was not healthy again by the scenario's
	// end (and true when no recovery was measured).
	Recovered bool `expr:"recovered"`

	Utilization UtilizationEnv `expr:"utilization"`
	Connections ConnectionsEnv `expr:"connections"`
	Exhaustion  ExhaustionEnv  `expr:"exhaustion"`

	// Users is the scenario's highest number of concurrent users.
	Users int `expr:"users"`
	// Elapsed is how long the scenario ran.
	Elapsed time.Duration `expr:"elapsed"`
}

// LatencyEnv summarises one latency histogram.
type LatencyEnv struct {
	Min  time.Duration `expr:"min"`
	Mean time.Duration `expr:"mean"`
	P50  time.Duration `expr:"p50"`
	P90  time.Duration `expr:"p90"`
	P95  time.Duration `expr:"p95"`
	P99  time.Duration `expr:"p99"`
	Max  time.Duration `expr:"max"`
	// Count is the number of values recorded.
	Count int64 `expr:"count"`
}

// ErrorsByEnv counts failures by category (results.Err* constants).
type ErrorsByEnv struct {
	AcquireTimeout int64 `expr:"acquire_timeout"`
	Connect        int64 `expr:"connect"`
	Query          int64 `expr:"query"`
	Broken         int64 `expr:"broken"`
	Cancelled      int64 `expr:"cancelled"`
	Args           int64 `expr:"args"`
	Other          int64 `expr:"other"`
}

// UtilizationEnv is checked-out connections / (size + max_overflow), sampled over time.
type UtilizationEnv struct {
	Mean float64 `expr:"mean"`
	P95  float64 `expr:"p95"`
	Max  float64 `expr:"max"`
}

// ConnectionsEnv counts the lifecycle of server connections.
type ConnectionsEnv struct {
	Opened int64 `expr:"opened"`
	Closed int64 `expr:"closed"`
	// MaxOpen is the highest number of connections open at once.
	MaxOpen int `expr:"max_open"`
	// Reuse is 1 − opened/acquires (0 when nothing was acquired), a fraction.
	Reuse float64 `expr:"reuse"`
	// ClosedBy counts closes by reason.
	ClosedBy ClosedByEnv `expr:"closed_by"`
}

// ClosedByEnv counts connection closes by reason (results.Close* constants).
type ClosedByEnv struct {
	Recycled int64 `expr:"recycled"`
	Overflow int64 `expr:"overflow"`
	Broken   int64 `expr:"broken"`
	End      int64 `expr:"end"`
}

// ExhaustionEnv summarises the periods in which every connection was in use
// and acquires were waiting.
type ExhaustionEnv struct {
	Events   int           `expr:"events"`
	Total    time.Duration `expr:"total"`
	Longest  time.Duration `expr:"longest"`
	Timeouts int64         `expr:"timeouts"`
}

// PoolEnv is the pool configuration under test.
type PoolEnv struct {
	Size           int           `expr:"size"`
	MaxOverflow    int           `expr:"max_overflow"`
	Timeout        time.Duration `expr:"timeout"`
	Recycle        time.Duration `expr:"recycle"`
	PrePing        bool          `expr:"pre_ping"`
	ConnectTimeout time.Duration `expr:"connect_timeout"`
	LeakThreshold  time.Duration `expr:"leak_threshold"`
	// Capacity is size + max_overflow.
	Capacity int `expr:"capacity"`
}

// ServerEnv describes the server under load.
type ServerEnv struct {
	// MaxConnections is the server's max_connections (0 when unknown).
	MaxConnections int    `expr:"max_connections"`
	Version        string `expr:"version"`
}

// PreflightEnv holds each preflight check's status by name.
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
	typ   reflect.Type // the field's type
	leaf  bool         // a value, not a group of values
}

var (
	envType      = reflect.TypeOf(Env{})
	durationType = reflect.TypeOf(time.Duration(0))
	// names maps every dotted name, groups included ("acquire", "acquire.p95").
	names = map[string]nameInfo{}
	// leafNames lists the value names in declaration order.
	leafNames []string
)

func init() {
	indexNames(envType, "", nil)
}

// indexNames walks t's fields by their expr tags and records every name.
func indexNames(t reflect.Type, prefix string, index []int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous {
			indexNames(f.Type, prefix, idx)
			continue
		}
		name := prefix + f.Tag.Get("expr")
		group := f.Type.Kind() == reflect.Struct && f.Type != durationType
		names[name] = nameInfo{index: idx, typ: f.Type, leaf: !group}
		if group {
			indexNames(f.Type, name+".", idx)
			continue
		}
		leafNames = append(leafNames, name)
	}
}

// Names lists every name the environment offers, in reference order
// (scenario metrics, context, then baseline.*). Groups such as `acquire` are
// not listed, only their members (`acquire.p95`).
func Names() []string {
	return append([]string(nil), leafNames...)
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

// value returns the value of a known name in env.
func (e *Env) value(name string) (any, bool) {
	info, ok := names[name]
	if !ok {
		return nil, false
	}
	return reflect.ValueOf(e).Elem().FieldByIndex(info.index).Interface(), true
}

// newEnv builds the environment of one scenario. baseline may be nil.
func newEnv(run *results.Run, sc *results.Scenario, baseline *results.Scenario) Env {
	env := Env{
		Metrics:       metricsOf(sc),
		Scenario:      sc.Name,
		Driver:        run.Target.Driver,
		ServerVersion: run.Target.ServerVersion,
		Server:        ServerEnv{MaxConnections: run.Target.MaxConnections, Version: run.Target.ServerVersion},
		RTT:           run.Target.RTT,
		Pool: PoolEnv{
			Size:           run.Pool.Size,
			MaxOverflow:    run.Pool.MaxOverflow,
			Timeout:        run.Pool.Timeout,
			Recycle:        run.Pool.Recycle,
			PrePing:        run.Pool.PrePing,
			ConnectTimeout: run.Pool.ConnectTimeout,
			LeakThreshold:  run.Pool.LeakThreshold,
			Capacity:       run.Pool.Capacity(),
		},
		Preflight: preflightOf(run.Preflight),
	}
	if baseline != nil {
		env.Baseline = metricsOf(baseline)
	}
	return env
}

func metricsOf(sc *results.Scenario) Metrics {
	m := Metrics{
		Acquire:     latencyOf(sc.Acquire),
		Query:       latencyOf(sc.Query),
		Op:          latencyOf(sc.Op),
		Hold:        latencyOf(sc.Hold),
		Connect:     latencyOf(sc.Connect),
		Ops:         sc.Ops,
		Errors:      sc.Errors,
		SuccessRate: sc.SuccessRate,
		Throughput:  sc.Throughput,
		ErrorsBy: ErrorsByEnv{
			AcquireTimeout: sc.ErrorsBy[results.ErrAcquireTimeout],
			Connect:        sc.ErrorsBy[results.ErrConnect],
			Query:          sc.ErrorsBy[results.ErrQuery],
			Broken:         sc.ErrorsBy[results.ErrBroken],
			Cancelled:      sc.ErrorsBy[results.ErrCancelled],
			Args:           sc.ErrorsBy[results.ErrArgs],
			Other:          sc.ErrorsBy[results.ErrOther],
		},
		Leaks:     sc.Leaks,
		Recovered: true,
		Utilization: UtilizationEnv{
			Mean: sc.Utilization.Mean,
			P95:  sc.Utilization.P95,
			Max:  sc.Utilization.Max,
		},
		Connections: ConnectionsEnv{
			Opened:  sc.Connections.Opened,
			Closed:  sc.Connections.Closed,
			MaxOpen: sc.Connections.MaxOpen,
			Reuse:   sc.Connections.Reuse,
			ClosedBy: ClosedByEnv{
				Recycled: sc.Connections.ClosedBy[results.CloseRecycled],
				Overflow: sc.Connections.ClosedBy[results.CloseOverflow],
				Broken:   sc.Connections.ClosedBy[results.CloseBroken],
				End:      sc.Connections.ClosedBy[results.CloseEnd],
			},
		},
		Exhaustion: ExhaustionEnv{
			Events:   sc.Exhaustion.Events,
			Total:    sc.Exhaustion.Total,
			Longest:  sc.Exhaustion.Longest,
			Timeouts: sc.Exhaustion.Timeouts,
		},
		Users:   sc.MaxUsers,
		Elapsed: sc.Elapsed,
	}
	if sc.Recovery != nil {
		m.Recovery = sc.Recovery.Duration
		m.Recovered = sc.Recovery.Recovered()
	}
	return m
}

func latencyOf(l results.Latency) LatencyEnv {
	return LatencyEnv{Min: l.Min, Mean: l.Mean, P50: l.P50, P90: l.P90, P95: l.P95, P99: l.P99, Max: l.Max, Count: l.Count}
}

func preflightOf(checks []results.Check) PreflightEnv {
	var p PreflightEnv
	for _, c := range checks {
		switch c.Name {
		case "reachability":
			p.Reachability = string(c.Status)
		case "server":
			p.Server = string(c.Status)
		case "rtt":
			p.RTT = string(c.Status)
		case "capacity":
			p.Capacity = string(c.Status)
		case "timeouts":
			p.Timeouts = string(c.Status)
		case "consistency":
			p.Consistency = string(c.Status)
		}
	}
	return p
}
