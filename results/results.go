// Package results is the plain-data record of one planrun run: what was run,
// what was measured, how the assertions came out and the verdict.
//
// It is written by the engine (measurements) and the assertions package
// (outcomes and verdict), saved as the versioned JSON report, and read back by
// `planrun report` and `planrun compare`. Renderers format it; they never
// compute. Durations are encoded in JSON as integer nanoseconds (time.Duration);
// docs/json-report.md describes every field.
//
// The `expr` tags name the fields assertions read (docs/assertions.md): the
// assertions package builds its environment from these types, so a new
// metric is one tagged field here, computed once in the engine, and
// documented; the assertions test that keeps docs/assertions.md in step with
// the names then says what to write. A `unit:"fraction"` tag marks a rate
// from 0 to 1: assertions show it as a percentage and reject comparing it
// with a number above 1.
package results

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON report format. It changes when a
// field changes meaning or disappears; new fields do not change it.
const SchemaVersion = 2

// Status is how a run or a scenario ended.
type Status string

// Run and scenario statuses.
const (
	StatusCompleted   Status = "completed"   // every selected scenario ran to its end
	StatusAborted     Status = "aborted"     // an abort_on_fail assertion stopped the run
	StatusInterrupted Status = "interrupted" // Ctrl-C / SIGTERM
	StatusFailed      Status = "failed"      // could not run: target unreachable, preflight or setup failed
)

// Severity orders statuses from best to worst (completed 0, interrupted 1,
// aborted 2, failed 3), so that the worst of several runs' or segments'
// statuses is the one with the highest severity.
func (s Status) Severity() int {
	return severity(s, StatusCompleted, StatusInterrupted, StatusAborted, StatusFailed)
}

// Run is one whole run of a plan.
type Run struct {
	SchemaVersion  int       `json:"schema_version"`
	PlanrunVersion string    `json:"planrun_version"`
	Plan           PlanInfo  `json:"plan"`
	Target         Target    `json:"target"`
	Pool           Pool      `json:"pool"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at"`
	// Status is how the run ended; StatusReason says why, when not completed.
	Status       Status `json:"status"`
	StatusReason string `json:"status_reason,omitempty"`
	// TeardownError says which teardown statements failed (empty when all ran).
	TeardownError string     `json:"teardown_error,omitempty"`
	Preflight     []Check    `json:"preflight,omitempty"`
	Scenarios     []Scenario `json:"scenarios"`
	Assertions    []Outcome  `json:"assertions"`
	Verdict       Verdict    `json:"verdict"`
	// Recommendations is the advice for the pool (package recommend); nil
	// when none could be made.
	Recommendations *Recommendations `json:"recommendations,omitempty"`
	// TimeScale is the --time-scale factor the durations were multiplied by (1 = as written).
	TimeScale float64 `json:"time_scale"`
	// Seed is the seed of the run's random choices (arrivals, operations,
	// think times, args): the plan's `seed`, or the one planrun drew. Giving it as the
	// plan's seed replays the same schedule.
	Seed int64 `json:"seed,omitempty"`
	// Segment is set when the run was one slice of the plan (--segment
	// i/N); nil for a whole run and for a merged one.
	Segment *Segment `json:"segment,omitempty"`
	// Merged is set on a run record merged from segment reports (planrun merge).
	Merged *Merged `json:"merged,omitempty"`
	// Partial is set when only some of the plan's scenarios ran
	// (--scenario): such a run is never approved for production.
	Partial *Partial `json:"partial,omitempty"`
}

// Partial says which of the plan's scenarios a partial run ran.
type Partial struct {
	// Ran are the scenarios selected with --scenario, in plan order.
	Ran []string `json:"ran"`
	// Of is how many scenarios the plan has.
	Of int `json:"of"`
}

// Segment is one of Count disjoint slices of a plan's load (--segment
// Index/Count): a share of every scenario's users, rates and in-flight
// bound, and of the plan's replicas, such that the Count slices add up to
// the plan exactly.
type Segment struct {
	// Index is the segment's number, from 1 to Count.
	Index int `json:"index"`
	Count int `json:"count"`
	// StartAt is the wall-clock instant every segment began its first
	// scenario at (--start-at); zero when not given.
	StartAt time.Time `json:"start_at,omitzero"`
	// Replicas lists the replicas (application instances, each with its own
	// pool) this segment ran, numbered from 1 across the whole plan.
	Replicas []int `json:"replicas"`
}

// Merged says a run record was merged from segment reports.
type Merged struct {
	// Files are the segment reports merged, in segment order.
	Files []string `json:"files"`
	// Segments is how many segments the plan was split into.
	Segments int `json:"segments"`
}

// PlanInfo identifies the plan that was run.
type PlanInfo struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	File        string `json:"file"`
	SHA256      string `json:"sha256"`
}

// Target describes the server under load. URL is always redacted.
type Target struct {
	URL             string `json:"url"`
	Embedded        bool   `json:"embedded"`
	ServerVersion   string `json:"server_version"`
	ApplicationName string `json:"application_name"`
	Replicas        int    `json:"replicas"`
	Driver          string `json:"driver"`
	// MaxConnections is the server's max_connections (0 when unknown).
	MaxConnections int  `json:"max_connections,omitempty"`
	TLS            bool `json:"tls"`
	// RTT is the median round trip of the preflight pings (0 when not measured).
	RTT time.Duration `json:"rtt,omitempty"`
	// Network is the simulated network the pool's connections went
	// through (nil: none). Preflight and setup connected directly.
	Network *Network `json:"network,omitempty"`
	// ServiceLog is the file a service planrun started (target.service)
	// wrote its output to ("" when it started none).
	ServiceLog string `json:"service_log,omitempty"`
}

// Network is a simulated network between the pool and the server: an
// in-process TCP proxy on 127.0.0.1 (target.network).
type Network struct {
	// Latency added to every round trip; Jitter its spread (± Jitter on a
	// round trip, Jitter/2 per direction).
	Latency time.Duration `json:"latency"`
	Jitter  time.Duration `json:"jitter,omitempty"`
	// Bandwidth per connection and direction, in bytes per second (0 = unlimited).
	Bandwidth int64 `json:"bandwidth,omitempty"`
}

// Pool is the pool configuration under test. Assertions read it as pool.*
// (its expr tags, plus pool.capacity: [Pool.Capacity]).
type Pool struct {
	Size           int           `json:"size" expr:"size"`
	MaxOverflow    int           `json:"max_overflow" expr:"max_overflow"`
	Timeout        time.Duration `json:"timeout" expr:"timeout"`
	Recycle        time.Duration `json:"recycle" expr:"recycle"`
	PrePing        bool          `json:"pre_ping" expr:"pre_ping"`
	ConnectTimeout time.Duration `json:"connect_timeout" expr:"connect_timeout"`
	// LeakThreshold as configured; 0 means "the scenario's duration".
	LeakThreshold time.Duration `json:"leak_threshold" expr:"leak_threshold"`
	// IsolationLevel is what each checkout begins before its first
	// statement (SQLAlchemy isolation_level): "read_committed",
	// "repeatable_read", "serializable", or "autocommit" (no BEGIN, no
	// reset). "" in reports written before it was recorded (they ran
	// autocommit).
	IsolationLevel string `json:"isolation_level,omitempty" expr:"isolation_level"`
	// ResetOnReturn is what a connection returned with its transaction open
	// gets (pool_reset_on_return): "rollback", "commit" or "none".
	ResetOnReturn string `json:"reset_on_return,omitempty" expr:"reset_on_return"`
	// UseLIFO: the pool hands out the most recently returned idle
	// connection (pool_use_lifo).
	UseLIFO bool `json:"use_lifo,omitempty" expr:"use_lifo"`
}

// Capacity is Size + MaxOverflow.
func (p Pool) Capacity() int { return p.Size + p.MaxOverflow }

// Check is one preflight check.
type Check struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Reason string      `json:"reason"`
	// Critical checks that fail stop the run before any load.
	Critical bool `json:"critical"`
}

// CheckStatus is the result of a preflight check.
type CheckStatus string

// Preflight check statuses.
const (
	CheckPass CheckStatus = "pass"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
)

// Severity orders check statuses from best to worst: pass 0, warn 1, fail 2.
func (s CheckStatus) Severity() int { return severity(s, CheckPass, CheckWarn, CheckFail) }

// Scenario holds everything measured in one scenario.
type Scenario struct {
	Name string `json:"name" expr:"scenario"`
	Mix  string `json:"mix"`
	// Status: completed, aborted, interrupted or failed.
	Status    Status    `json:"status"`
	StartedAt time.Time `json:"started_at"`
	// Planned is the scenario's planned length (after --time-scale); Elapsed what it actually took.
	Planned time.Duration `json:"planned"`
	Elapsed time.Duration `json:"elapsed" expr:"elapsed"`
	// TimeScaleNote, set when --time-scale changed an open model's stage
	// lengths (not its rates), says how much smaller (or larger) than the
	// plan's the queue it could build was: a surge run a tenth as long
	// queues about a tenth of the requests, with waits and drain as much
	// shorter. One sentence for the reports; "" otherwise.
	TimeScaleNote string `json:"time_scale_note,omitempty"`
	// Warmup is the scenario's warm-up period at its start: it ran as planned
	// but its operations are left out of every figure below except Series
	// (whose points within it are marked Warmup). Elapsed includes it.
	Warmup time.Duration `json:"warmup,omitempty" expr:"warmup"`
	// MaxUsers is the highest number of users that ran at once (closed
	// model); for an open model, the most operations in flight at once.
	MaxUsers int `json:"max_users" expr:"users"`
	// Model is "closed" (users) or "open" (an arrival rate).
	Model Model `json:"model,omitempty"`
	// Rate is an open model's target arrival rate, in arrivals per second:
	// the mean over the scenario's profile (the stage rate for a steady one).
	Rate float64 `json:"rate,omitempty" expr:"rate"`
	// Arrivals counts an open model's scheduled arrivals that fell in the
	// measured window: each either ran (in Ops or Cancelled) or was Dropped.
	Arrivals int64 `json:"arrivals,omitempty" expr:"arrivals"`
	// Think is a closed model's mean planned think time between a user's
	// operations (0: none, or an open model). The verdict uses it to judge
	// whether the users kept their schedule (docs/assertions.md).
	Think time.Duration `json:"think,omitempty"`
	// Dropped counts open-model arrivals that were not run because
	// max_in_flight operations were unfinished. They are also counted in
	// Ops and Errors (category "dropped"), so success_rate falls with them.
	Dropped int64 `json:"dropped,omitempty" expr:"dropped"`
	// Lag is an open model's start lag: actual start minus scheduled start
	// of each operation. Op latencies include it (they run from the
	// scheduled start), so a stall is never hidden (coordinated omission).
	Lag Latency `json:"lag,omitzero" expr:"lag"`
	// InFlight is an open model's unfinished operations, sampled.
	InFlight InFlight `json:"in_flight,omitzero" expr:"in_flight"`
	// Generator is what the load generator measured of itself during the
	// scenario (its timer lateness and CPU use).
	Generator Generator `json:"generator,omitzero" expr:"generator"`

	// Ops counts every attempted operation, failed ones included; Errors the failed ones.
	Ops    int64 `json:"ops" expr:"ops"`
	Errors int64 `json:"errors" expr:"errors"`
	// Cancelled counts operations cut short because the run was stopped
	// (Ctrl-C, SIGTERM, an abort, or the drain deadline). They are not in Ops
	// or Errors: an interrupted run does not blame the pool for them.
	Cancelled int64 `json:"cancelled,omitempty" expr:"cancelled"`
	// SuccessRate is 1 − Errors/Ops (1 when Ops is 0).
	SuccessRate float64 `json:"success_rate" expr:"success_rate" unit:"fraction"`
	// Throughput is successful operations per second of Elapsed.
	Throughput float64 `json:"throughput" expr:"throughput"`

	// Acquire: time to get a connection (timeouts included, at their wait time).
	Acquire Latency `json:"acquire" expr:"acquire"`
	// Query: each statement's server round trip.
	Query Latency `json:"query" expr:"query"`
	// Op: a whole operation: acquire + statements (+ BEGIN/COMMIT) + hold.
	Op Latency `json:"op" expr:"op"`
	// Hold: how long each checkout kept its connection (acquire to release).
	Hold Latency `json:"hold" expr:"hold"`
	// Connect: time to open a new server connection.
	Connect Latency `json:"connect" expr:"connect"`
	// GeneratorLag is how late planrun's own 100 ms sampling clock ticked,
	// one value per tick: a measure of how starved of CPU the load generator
	// was. Tens of milliseconds mean the machine, not the pool, set the pace
	// and latencies include waits for a CPU.
	GeneratorLag Latency `json:"generator_lag" expr:"generator_lag"`

	// Operations breaks the totals down by operation name, in mix order.
	Operations []Operation `json:"operations"`
	// ErrorsBy counts failures by category (Err* constants).
	ErrorsBy map[string]int64 `json:"errors_by" expr:"errors_by"`
	// ErrorSamples holds the first (redacted) message of each category.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// SQLStates counts server errors by SQLSTATE code (e.g. "23505" unique
	// violation, "40001" serialization failure), across categories.
	SQLStates map[string]int64 `json:"sqlstates,omitempty"`

	Connections Connections `json:"connections" expr:"connections"`
	Utilization Utilization `json:"utilization" expr:"utilization"`
	Exhaustion  Exhaustion  `json:"exhaustion" expr:"exhaustion"`
	// Leaks counts leaked connections (LeakDetails describes each, bounded).
	Leaks       int    `json:"leaks" expr:"leaks"`
	LeakDetails []Leak `json:"leak_details,omitempty"`
	// Service is the service under test's pool seen from the server, and
	// its connections at planrun's proxy (nil without target.service).
	// Assertions read it as service.*; one that does on a scenario without
	// it, or whose service was not found, is skipped as unmeasured.
	Service *Service `json:"service,omitempty" expr:"service"`
	// HTTPOnly is set on a scenario whose mix holds only HTTP operations
	// (requests to target.service): planrun's own pool took no load, so
	// its figures (the names [OwnPoolRoots] lists: acquire, query, hold,
	// connect, connections, utilization, exhaustion, leaks, replicas) are
	// zeros standing for nothing. Reports show them as not applicable and
	// assertions do not judge them there; the service's pool is Service.
	// False (omitted) for a scenario with a SQL operation, and in reports
	// written before it was recorded.
	HTTPOnly bool `json:"http_only,omitempty"`
	// Watch is set on the one scenario of a `planrun watch` record: the
	// service's pool watched from the server for a while, with no load.
	// Only its Service figures, Elapsed and Series (the service's backends:
	// InUse, Idle, Total, and Missed samples) are measured; every other
	// figure is a zero standing for nothing ([WatchMeasures] says which
	// names are measured). Reports show them as not applicable and
	// assertions do not judge them there.
	Watch bool `json:"watch,omitempty"`
	// NotChecked lists the checks the engine could not make on this
	// scenario, with why (empty when all were made). An assertion reading a
	// figure one of them feeds is skipped with the reason, never passed, and
	// a critical one fails the verdict.
	NotChecked []NotChecked `json:"not_checked,omitempty"`
	// Replicas breaks the pool figures down by replica (application
	// instance, each with its own pool), in replica order. The totals above
	// cover every replica: utilization is over all their connections,
	// exhaustion events, time and timeouts are summed (share is the summed
	// time over replicas × the measured time), max_open is summed.
	Replicas []Replica `json:"replicas,omitempty"`
	// Recovery is nil when the scenario has neither recovery_after nor
	// faults. Otherwise it is the worst of the recovery after stage
	// recovery_after and the recoveries after each fault (see
	// WorstRecovery): AfterStage or AfterFault says which.
	Recovery *Recovery `json:"recovery,omitempty"`
	// Faults are the scenario's scheduled faults, in plan order: what each
	// did, when, and the recovery after it.
	Faults []Fault `json:"faults,omitempty"`
	// Series is the per-second time series (downsampled to at most MaxSeriesPoints).
	Series []Point `json:"series"`
	// SeriesStep is the width of one Series point (1s unless downsampled).
	SeriesStep time.Duration `json:"series_step"`
}

// OwnPoolRoots are the assertion names (and their members) that read
// planrun's own pool, not the service under test's: on a scenario that
// sends only HTTP requests (Scenario.HTTPOnly) they measured nothing.
// errors_by's SQL categories (OwnPoolErrors) are such names too.
var OwnPoolRoots = []string{"acquire", "query", "hold", "connect", "connections", "utilization", "exhaustion", "leaks", "replicas"}

// OwnPoolErrors are the error categories only a SQL operation can have:
// planrun's own pool timed out, could not connect, or its statement failed
// or broke. An HTTP operation's failures are the http_* categories.
var OwnPoolErrors = []string{ErrAcquireTimeout, ErrConnect, ErrQuery, ErrBroken}

// ReadsOwnPool reports whether the assertion name (e.g. "acquire.p95",
// "errors_by.acquire_timeout", "utilization") reads planrun's own pool
// (OwnPoolRoots, OwnPoolErrors).
func ReadsOwnPool(name string) bool {
	root, rest, _ := strings.Cut(name, ".")
	if root == "errors_by" {
		return slices.Contains(OwnPoolErrors, rest)
	}
	return slices.Contains(OwnPoolRoots, root)
}

// WatchMeasures reports whether the assertion name (e.g. "service.leaks",
// "elapsed") is measured on a watch (Scenario.Watch): the service's
// figures, the scenario's name and its elapsed time; none of the load's.
func WatchMeasures(name string) bool {
	root, _, _ := strings.Cut(name, ".")
	return root == "service" || root == "scenario" || root == "elapsed"
}

// MaxSeriesPoints bounds Scenario.Series whatever the run's length.
const MaxSeriesPoints = 600

// Error categories.
const (
	ErrAcquireTimeout = "acquire_timeout" // waited pool.timeout for a connection
	ErrConnect        = "connect"         // could not open a server connection
	ErrQuery          = "query"           // the server rejected a statement (SQLSTATE known)
	ErrBroken         = "broken"          // the connection died mid-operation
	ErrCancelled      = "cancelled"       // the run was stopped while the operation ran
	ErrArgs           = "args"            // an args expression failed, or the args do not fit the statement's parameters
	ErrDropped        = "dropped"         // an open-model arrival not run: max_in_flight operations were unfinished
	ErrOther          = "other"
	// An HTTP operation's (internal/httpop): the service answered 5xx or
	// 4xx, gave no complete response within the timeout, or none at all.
	ErrHTTP5xx     = "http_5xx"
	ErrHTTP4xx     = "http_4xx"
	ErrHTTPTimeout = "http_timeout"
	ErrHTTPConnect = "http_connect"
)

// ErrorCategories lists every category, in report order. Assertions see
// each as errors_by.<category>.
var ErrorCategories = []string{ErrAcquireTimeout, ErrConnect, ErrQuery, ErrBroken, ErrCancelled, ErrArgs, ErrDropped, ErrOther,
	ErrHTTP5xx, ErrHTTP4xx, ErrHTTPTimeout, ErrHTTPConnect}

// Latency summarises one histogram. Histogram is the HdrHistogram in V2
// compressed base64 encoding (values in nanoseconds), so later commands can
// merge and compare without re-running.
type Latency struct {
	Count     int64         `json:"count" expr:"count"`
	Min       time.Duration `json:"min" expr:"min"`
	Mean      time.Duration `json:"mean" expr:"mean"`
	P50       time.Duration `json:"p50" expr:"p50"`
	P90       time.Duration `json:"p90" expr:"p90"`
	P95       time.Duration `json:"p95" expr:"p95"`
	P99       time.Duration `json:"p99" expr:"p99"`
	Max       time.Duration `json:"max" expr:"max"`
	Histogram string        `json:"histogram,omitempty"`
}

// Model is a scenario's load model.
type Model string

// Load models.
const (
	ModelClosed Model = "closed" // users that wait for their previous operation
	ModelOpen   Model = "open"   // arrivals at a rate, whatever the system does
)

// InFlight summarises an open model's count of unfinished operations.
type InFlight struct {
	Mean float64 `json:"mean" expr:"mean"`
	Max  int     `json:"max" expr:"max"`
}

// Generator is what the load generator measured of itself over the run
// (package internal/selfwatch). CPU figures are in cores (1.5 = one and a
// half cores busy on average); -1 when the machine could not tell.
type Generator struct {
	// TimerLateness is how late a 10 ms timer of the generator fired.
	TimerLateness Latency `json:"timer_lateness" expr:"timer_lateness"`
	// CPU is planrun's own CPU use.
	CPU float64 `json:"cpu" expr:"cpu"`
	// ServerCPU is the embedded server's CPU use (-1 for an external target).
	ServerCPU float64 `json:"server_cpu" expr:"server_cpu"`
	// ServiceCPU is the CPU use of the service under test's process tree
	// when planrun started it (target.service.start); -1 for a running
	// service (target.service.url), without a service, and in a report
	// written before planrun measured it (UnmarshalJSON).
	ServiceCPU float64 `json:"service_cpu" expr:"service_cpu"`
	// MachineCPU is the whole machine's busy CPU.
	MachineCPU float64 `json:"machine_cpu" expr:"machine_cpu"`
	// Cores is the number of CPUs of the machine.
	Cores int `json:"cores" expr:"cores"`
	// ProxyLateness is how late the emulated network (target.network)
	// delivered each chunk of data after the instant its latency scheduled,
	// per direction; zero Count without a network.
	ProxyLateness Latency `json:"proxy_lateness,omitzero" expr:"proxy_lateness"`
}

// UnmarshalJSON decodes a Generator; a report without service_cpu
// (written before planrun measured it) has none measured: -1, not 0.
func (g *Generator) UnmarshalJSON(data []byte) error {
	type plain Generator // without this method
	p := plain{ServiceCPU: -1}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*g = Generator(p)
	return nil
}

// SaturatedShare is the share of the machine's cores busy from which
// [Generator.Saturated] counts the machine as saturated.
const SaturatedShare = 0.9

// Saturated reports whether the machine's busy CPU was at least
// SaturatedShare of its cores (false when either is unknown): whatever ran
// on it, planrun's database server included when local, waited for a CPU.
func (g Generator) Saturated() bool {
	return g.Cores > 0 && g.MachineCPU >= SaturatedShare*float64(g.Cores)
}

// OtherCPU is the CPU other processes used, in cores: the machine's busy
// CPU less planrun's, the embedded server's and the started service's
// (those not measured count as none); meaningful when MachineCPU and CPU
// are known (>= 0).
func (g Generator) OtherCPU() float64 {
	return max(g.MachineCPU-g.CPU-max(g.ServerCPU, 0)-max(g.ServiceCPU, 0), 0)
}

// Band is the measurement error of one timed figure of the scenario: the
// generator's timer lateness p99 plus, with an emulated network, the
// proxy's delivery lateness p99 for each direction of a round trip. A
// figure within Band of a threshold could have been on its other side on
// an idle machine (docs/assertions.md, "Decided and undecided").
func (g Generator) Band() time.Duration {
	return g.TimerLateness.P99 + 2*g.ProxyLateness.P99
}

// Operation is the per-operation-name breakdown of a scenario.
type Operation struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	// Share is this operation's fraction of all attempted operations.
	Share  float64 `json:"share"`
	Ops    int64   `json:"ops" expr:"ops"`
	Errors int64   `json:"errors" expr:"errors"`
	// SuccessRate is 1 − Errors/Ops (1 when Ops is 0).
	SuccessRate float64 `json:"success_rate" expr:"success_rate" unit:"fraction"`
	// Acquire, Query and Op are this operation's latencies, defined as the
	// scenario's (Query: each of its statements).
	Acquire Latency `json:"acquire" expr:"acquire"`
	Query   Latency `json:"query" expr:"query"`
	Op      Latency `json:"op" expr:"op"`
	// Hold is how long this operation kept its connection, defined as the
	// scenario's: from the hand-over to the return (statements, hold:,
	// the checkout's BEGIN and reset).
	Hold Latency `json:"hold" expr:"hold"`
}

// Connections counts the lifecycle of server connections.
type Connections struct {
	Opened int64 `json:"opened" expr:"opened"`
	Closed int64 `json:"closed" expr:"closed"`
	// ClosedBy counts closes by reason (Close* constants).
	ClosedBy map[string]int64 `json:"closed_by" expr:"closed_by"`
	MaxOpen  int              `json:"max_open" expr:"max_open"`
	// Reuse is 1 − opened/acquires (0 when nothing was acquired).
	Reuse float64 `json:"reuse" expr:"reuse" unit:"fraction"`
}

// Close reasons.
const (
	CloseRecycled = "recycled" // older than pool.recycle
	CloseOverflow = "overflow" // returned while pool.size were idle
	CloseBroken   = "broken"   // failed pre-ping or died
	CloseEnd      = "end"      // closed with the pool at the scenario's end
)

// CloseReasons lists every close reason, in report order. Assertions see
// each as connections.closed_by.<reason>.
var CloseReasons = []string{CloseRecycled, CloseOverflow, CloseBroken, CloseEnd}

// Utilization is the pool's busy level (connections checked out, or being
// opened, pinged or closed: slots an acquire cannot take) over size +
// max_overflow, time-weighted over the measured time from the pool's own
// events (docs/metrics.md), not sampled: Mean is the time-weighted mean,
// P95 the lowest level the pool was at or below for 95 % of the time, Max
// the highest level reached at any instant. The pool is exhausted only at
// level 1, so exhaustion events imply Max == 1.
type Utilization struct {
	Mean float64 `json:"mean" expr:"mean" unit:"fraction"`
	P95  float64 `json:"p95" expr:"p95" unit:"fraction"`
	Max  float64 `json:"max" expr:"max" unit:"fraction"`
}

// Exhaustion summarises the periods in which every connection was in use and
// acquires were waiting.
type Exhaustion struct {
	Events   int           `json:"events" expr:"events"`
	Total    time.Duration `json:"total" expr:"total"`
	Longest  time.Duration `json:"longest" expr:"longest"`
	Timeouts int64         `json:"timeouts" expr:"timeouts"`
	// Share is Total as a fraction of the measured time (the scenario's
	// elapsed time after the warm-up).
	Share float64 `json:"share" expr:"share" unit:"fraction"`
}

// NotChecked is a check the engine could not make, so that the figures it
// feeds are incomplete.
type NotChecked struct {
	// Check names it (Check* constants of this package).
	Check string `json:"check"`
	// Figures lists the assertion names it feeds, e.g. ["leaks"].
	Figures []string `json:"figures"`
	// Reason says why it could not be made.
	Reason string `json:"reason"`
}

// Checks a scenario may record as not made (Scenario.NotChecked).
const (
	// CheckServerLeaks counts the backends left on the server once the load
	// stopped, on the monitor connection; without it, leaks counts only the
	// connections the pool saw held too long or unreleased.
	CheckServerLeaks = "server_leaks"
	// CheckFault is a scheduled fault that could not be applied: the
	// recovery after it was not measured.
	CheckFault = "fault"
)

// Leak is one connection held too long or still checked out at the end.
type Leak struct {
	Operation string        `json:"operation"`
	User      int           `json:"user"`
	Held      time.Duration `json:"held"`
	// Kind: "held" (over the threshold), "unreleased" (checked out at the end)
	// or "server" (backends left on the server after the grace period).
	Kind string `json:"kind"`
}

// Recovery is the time from the end of stage recovery_after until the pool is
// healthy again and stays so for Settle (docs/metrics.md gives the exact
// definition).
type Recovery struct {
	// AfterStage is the 1-based stage whose end recovery is measured from,
	// or 0 when measured after a fault (AfterFault, 1-based).
	AfterStage int `json:"after_stage"`
	AfterFault int `json:"after_fault,omitempty"`
	// Status says whether Duration is a recovery time (RecoveryRecovered) or
	// why not.
	Status RecoveryStatus `json:"status"`
	// Duration is the recovery time when recovered; when not recovered, the
	// time from the stage's end to the scenario's end; otherwise 0.
	Duration time.Duration `json:"duration"`
	// Settle is how long the pool had to stay healthy to count as recovered.
	Settle time.Duration `json:"settle"`
}

// RecoveryStatus is the outcome of a recovery measurement.
type RecoveryStatus string

// Recovery statuses.
const (
	// RecoveryRecovered: the pool was stressed and became healthy again for
	// at least Settle before the scenario ended.
	RecoveryRecovered RecoveryStatus = "recovered"
	// RecoveryNotRecovered: the pool was still stressed, or not healthy for
	// Settle, when the scenario ended.
	RecoveryNotRecovered RecoveryStatus = "not_recovered"
	// RecoveryNotStressed: the pool was never exhausted nor slow during or
	// after stage recovery_after, so there was nothing to recover from: the
	// load did not test recovery.
	RecoveryNotStressed RecoveryStatus = "not_stressed"
	// RecoveryNotReached: the scenario stopped before stage recovery_after
	// ended.
	RecoveryNotReached RecoveryStatus = "not_reached"
)

// Severity orders recovery statuses from best to worst: not stressed 0
// (nothing was tested), recovered 1, not reached 2, not recovered 3.
func (s RecoveryStatus) Severity() int {
	return severity(s, RecoveryNotStressed, RecoveryRecovered, RecoveryNotReached, RecoveryNotRecovered)
}

// Replica is one replica's pool figures in a scenario. Assertions read the
// worst replica of each figure as replicas.<figure>
// (replicas.utilization.max, replicas.exhaustion.timeouts, ...).
type Replica struct {
	// Index is the replica's number, from 1, across the whole plan.
	Index int `json:"index"`
	// Acquires counts the connections this replica's pool handed out.
	Acquires    int64       `json:"acquires"`
	MaxOpen     int         `json:"max_open"`
	Utilization Utilization `json:"utilization"`
	Exhaustion  Exhaustion  `json:"exhaustion"`
}

// Fault is one scheduled fault as it happened: a marker on the scenario's
// time series and the recovery measured after it. Assertions read it as
// faults[i].kind and faults[i].status (its expr tags), plus
// faults[i].recovery and faults[i].recovered ([Fault.RecoveryTime],
// [Fault.Recovered]); the fields tagged expr:"-" are not theirs to read.
type Fault struct {
	// Kind is the plan's fault kind (schema.FaultKinds): stall, latency,
	// reset, terminate_backends, lock or restart.
	Kind string `json:"kind" expr:"kind"`
	// What describes the fault as planned, e.g. "stall for 2s",
	// "latency +200ms for 10s", "terminate 50% of the pool's backends".
	What string `json:"what" expr:"-"`
	// At and For are the planned offset from the scenario's start and the
	// planned length (0 for an instant fault), after --time-scale.
	At  time.Duration `json:"at" expr:"-"`
	For time.Duration `json:"for,omitempty" expr:"-"`
	// Status: applied, failed (Effect says why) or not_reached (the
	// scenario stopped before At).
	Status FaultStatus `json:"status" expr:"status"`
	// Started and Ended are the measured offsets from the scenario's start
	// at which the fault began and ended (equal for an instant fault); 0
	// when not reached.
	Started time.Duration `json:"started" expr:"-"`
	Ended   time.Duration `json:"ended" expr:"-"`
	// Effect says what the fault did, e.g. "terminated 12 of 24 backends",
	// "reset 18 connections", "server down 2.03s, back on port 5433", or
	// why it could not be applied.
	Effect string `json:"effect" expr:"-"`
	// Recovery is measured from Ended as after an overload stage.
	Recovery *Recovery `json:"recovery,omitempty" expr:"-"`
}

// RecoveryTime is the recovery's duration after the fault (0 without a
// recovery): the recovery time when recovered, else the time to the
// scenario's end (see [Recovery]).
func (f Fault) RecoveryTime() time.Duration {
	if f.Recovery == nil {
		return 0
	}
	return f.Recovery.Duration
}

// Recovered reports whether the pool recovered after the fault (false when
// the fault failed or was not reached, or the pool did not recover).
func (f Fault) Recovered() bool { return f.Recovery.Recovered() }

// FaultStatus is what became of a scheduled fault.
type FaultStatus string

// Fault statuses.
const (
	FaultApplied    FaultStatus = "applied"
	FaultFailed     FaultStatus = "failed"
	FaultNotReached FaultStatus = "not_reached"
)

// WorstRecovery returns the worst of rs (nils ignored; nil when all are):
// not recovered, then not reached, then the longest recovery, then not
// stressed. Ties keep the first.
func WorstRecovery(rs ...*Recovery) *Recovery {
	var worst *Recovery
	for _, r := range rs {
		if r == nil {
			continue
		}
		if worst == nil || r.Status.Severity() > worst.Status.Severity() ||
			r.Status.Severity() == worst.Status.Severity() && r.Duration > worst.Duration {
			worst = r
		}
	}
	return worst
}

// Recovered reports whether the pool recovered.
func (r *Recovery) Recovered() bool { return r != nil && r.Status == RecoveryRecovered }

// Point is one step of a scenario's time series.
type Point struct {
	// T is the offset of the end of this step from the scenario's start.
	T          time.Duration `json:"t"`
	Users      int           `json:"users"`
	Ops        int64         `json:"ops"`
	Errors     int64         `json:"errors"`
	AcquireP50 time.Duration `json:"acquire_p50"`
	AcquireP95 time.Duration `json:"acquire_p95"`
	AcquireP99 time.Duration `json:"acquire_p99"`
	QueryP95   time.Duration `json:"query_p95"`
	OpP95      time.Duration `json:"op_p95"`
	InUse      int           `json:"in_use"`
	Idle       int           `json:"idle"`
	Total      int           `json:"total"`
	Waiting    int           `json:"waiting"`
	// InFlight is an open model's most unfinished operations within the step.
	InFlight int `json:"in_flight,omitempty"`
	// Warmup marks a point within the scenario's warm-up period.
	Warmup bool `json:"warmup,omitempty"`
	// Missed counts the samples a watch (Scenario.Watch) missed within the
	// step: the monitor connection was lost, or the server did not answer.
	// A gap in the series: its levels are not the service's then.
	Missed int `json:"missed,omitempty"`
}

// SuccessRate is 1 − errors/ops, 1 when nothing ran: Scenario.SuccessRate
// and Operation.SuccessRate.
func SuccessRate(ops, errors int64) float64 {
	if ops == 0 {
		return 1
	}
	return 1 - float64(errors)/float64(ops)
}

// ExhaustionShare is Exhaustion.Share: the time the pools were exhausted
// (summed over replicas) as a fraction of replicas × the measured time, at
// most 1; 0 when nothing was measured.
func ExhaustionShare(total, measured time.Duration, replicas int) float64 {
	if measured <= 0 || replicas < 1 {
		return 0
	}
	return min(float64(total)/float64(measured)/float64(replicas), 1)
}

// PointsAre says how two points of time series relate, for [CombinePoints].
type PointsAre int

const (
	// Consecutive: b is the step after a in one series (a series that
	// widens its step, a chart that downsamples).
	Consecutive PointsAre = iota
	// Concurrent: a and b are the same step of two series that ran side
	// by side, each with its own users and pools (the segments of a plan).
	Concurrent
)

// CombinePoints is the one reducer of series points: it combines a and b
// into one point. Counts (ops, errors) add up, saturated at the int64
// limit rather than wrapped around (a step's counts show a shape; the
// checked totals are in the scenario); percentiles take the larger value
// (an upper bound); the point is in the warm-up when both are; missed
// samples add up. Levels
// depend on rel: for Consecutive points the step's peaks (in use, waiting,
// in flight) take the larger value, the levels at the step's end (users,
// idle, total) b's, and the point ends at b.T; for Concurrent points every
// level adds up (saturated) and the point keeps a.T.
func CombinePoints(a, b Point, rel PointsAre) Point {
	p := Point{
		T:          b.T,
		Ops:        satAdd(a.Ops, b.Ops),
		Errors:     satAdd(a.Errors, b.Errors),
		AcquireP50: max(a.AcquireP50, b.AcquireP50),
		AcquireP95: max(a.AcquireP95, b.AcquireP95),
		AcquireP99: max(a.AcquireP99, b.AcquireP99),
		QueryP95:   max(a.QueryP95, b.QueryP95),
		OpP95:      max(a.OpP95, b.OpP95),
		Warmup:     a.Warmup && b.Warmup,
		Missed:     satInt(a.Missed, b.Missed),
	}
	if rel == Concurrent {
		p.T = a.T
		p.Users, p.InUse, p.Idle, p.Total = satInt(a.Users, b.Users), satInt(a.InUse, b.InUse), satInt(a.Idle, b.Idle), satInt(a.Total, b.Total)
		p.Waiting, p.InFlight = satInt(a.Waiting, b.Waiting), satInt(a.InFlight, b.InFlight)
		return p
	}
	p.Users, p.Idle, p.Total = b.Users, b.Idle, b.Total
	p.InUse, p.Waiting, p.InFlight = max(a.InUse, b.InUse), max(a.Waiting, b.Waiting), max(a.InFlight, b.InFlight)
	return p
}

// satAdd is a + b saturated at the int64 limits.
func satAdd(a, b int64) int64 {
	sum := a + b
	switch {
	case a > 0 && b > 0 && sum < 0:
		return 1<<63 - 1
	case a < 0 && b < 0 && sum >= 0:
		return -1 << 63
	}
	return sum
}

// satInt is satAdd for an int.
func satInt(a, b int) int { return int(satAdd(int64(a), int64(b))) }

// Outcome is one evaluation of one assertion on one scenario, or on the run
// as a whole (Scenario "") for a check that reads no scenario figure.
type Outcome struct {
	Name     string   `json:"name"`
	Check    string   `json:"check"`
	Scenario string   `json:"scenario"`
	Severity Severity `json:"severity"`
	// Status: pass, fail, skipped (with Reason; see Unmeasured), or error
	// (could not evaluate; with Reason).
	Status OutcomeStatus `json:"status"`
	// Actual shows the values the check used, e.g. "acquire.p95 = 312ms".
	Actual string `json:"actual,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Aborted is true when this assertion stopped the run (abort_on_fail).
	Aborted bool `json:"aborted,omitempty"`
	// Builtin is true for planrun's own checks, which apply to every
	// scenario unless the plan overrides them (docs/assertions.md).
	Builtin bool `json:"builtin,omitempty"`
	// Unmeasured is true for a skipped outcome whose check reads a figure
	// that could not be measured (Scenario.NotChecked, a preflight check
	// that did not run): a critical one fails the verdict. A check skipped
	// because it does not apply (no baseline, no recovery_after) is not
	// unmeasured.
	Unmeasured bool `json:"unmeasured,omitempty"`
	// Undecided is set on a pass or a fail that the run's own measurement
	// error could have turned: a timed figure lies within the generator's
	// error band of the threshold, or (for a pass) the planned load was not
	// delivered. Band says which and how wide. An undecided critical outcome
	// neither approves nor fails the verdict; it makes it inconclusive
	// unless a decided critical failure already fails it.
	Undecided bool   `json:"undecided,omitempty"`
	Band      string `json:"band,omitempty"`
}

// Severity says whether a failed outcome fails the verdict.
type Severity string

// Severities.
const (
	SeverityCritical Severity = "critical" // a fail or an error fails the verdict
	SeverityWarning  Severity = "warning"  // reported only
)

// OutcomeStatus is the result of one evaluation.
type OutcomeStatus string

// Outcome statuses.
const (
	OutcomePass    OutcomeStatus = "pass"
	OutcomeFail    OutcomeStatus = "fail"
	OutcomeSkipped OutcomeStatus = "skipped"
	OutcomeError   OutcomeStatus = "error"
)

// Verdict is the run's final word.
type Verdict struct {
	Pass  bool   `json:"pass"`
	Label string `json:"label"`
	// Inconclusive is set when the load generator could not keep to its
	// schedule (the measurement criterion failed): the figures describe its
	// machine, not the pool, so the run is neither approved nor not (exit
	// code 5). Pass is false; Reason says why.
	Inconclusive bool   `json:"inconclusive,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// Criteria groups the outcome by what the team cares about (configuration,
	// preflight, performance, load capacity, leaks, recovery).
	Criteria []Criterion `json:"criteria,omitempty"`
}

// Criterion is one group of the production certificate.
type Criterion struct {
	Name    string          `json:"name"`
	Status  CriterionStatus `json:"status"`
	Reasons []string        `json:"reasons,omitempty"`
}

// CriterionStatus is the result of one criterion of the certificate.
type CriterionStatus string

// Criterion statuses.
const (
	CriterionPass CriterionStatus = "pass"
	CriterionFail CriterionStatus = "fail"
	CriterionWarn CriterionStatus = "warn" // only warnings failed
	// CriterionUndecided: no critical check in it failed, but one could
	// have failed or passed within the run's measurement error.
	CriterionUndecided CriterionStatus = "undecided"
	CriterionSkipped   CriterionStatus = "skipped" // nothing in it was evaluated
)

// Severity orders criterion statuses from best to worst: skipped 0, pass 1,
// warn 2, undecided 3, fail 4.
func (s CriterionStatus) Severity() int {
	return severity(s, CriterionSkipped, CriterionPass, CriterionWarn, CriterionUndecided, CriterionFail)
}

// severity is s's rank among bestFirst, statuses from best to worst: its
// index there, 0 (the best) for a status not listed.
func severity[S ~string](s S, bestFirst ...S) int {
	return max(slices.Index(bestFirst, s), 0)
}
