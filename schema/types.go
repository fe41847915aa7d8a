// Package schema holds the Go types of a planrun plan file, its YAML decoding
// with positions, defaults and validation.
//
// These types are the file-facing side of a plan: they say what a user may
// write. The engine resolves them into its own run configuration.
// See docs/plan-format.md for the contract these types implement.
package schema

import (
	"fmt"
	"time"
)

// Pos is a position in a plan file. Line and Col are 1-based; a zero Line
// means "no position known".
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String renders the position as file:line:col.
func (p Pos) String() string {
	if p.Line == 0 {
		if p.File == "" {
			return "-"
		}
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Expr is an expr-lang expression as written in the plan, with the position
// of its first character.
type Expr struct {
	Src string
	Pos Pos
}

// Duration is a time.Duration written Go-style in the plan (`250ms`, `30s`,
// `5m`). A bare number is rejected with a message that says a unit is needed.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// DurationRange is `MIN..MAX` (uniform random between the two, inclusive) or a
// single duration (Min == Max).
type DurationRange struct {
	Min, Max time.Duration
}

// IsZero reports whether the range is 0..0.
func (r DurationRange) IsZero() bool { return r.Min == 0 && r.Max == 0 }

// Plan is one plan file.
type Plan struct {
	// Version of the plan format; only 1 exists. Required.
	Version int `yaml:"version"`
	// Name of the plan, used in reports and output file names. Required.
	Name        string `yaml:"name"`
	Description string `yaml:"description"`

	Target   Target         `yaml:"target"`
	Pool     Pool           `yaml:"pool"`
	Setup    []Statement    `yaml:"setup"`
	Teardown []Statement    `yaml:"teardown"`
	Mixes    map[string]Mix `yaml:"mixes"`
	// MixOrder lists the mix names in file order (maps lose it).
	MixOrder   []string    `yaml:"-"`
	Scenarios  []Scenario  `yaml:"scenarios"`
	Assertions []Assertion `yaml:"assertions"`
	Verdict    Verdict     `yaml:"verdict"`
	// Seed, when set, makes the run reproducible: the same seed schedules
	// the same open-model arrivals and picks the same operations, think
	// times and args.
	// Default (nil): a random seed, recorded in the report.
	Seed *int64 `yaml:"seed"`

	// File is the path the plan was loaded from; SHA256 the hex digest of its bytes.
	File   string `yaml:"-"`
	SHA256 string `yaml:"-"`
}

// Target says which PostgreSQL server to load.
type Target struct {
	// URL is a PostgreSQL connection URL or DSN, after ${VAR} / ${VAR:-default}
	// expansion. Empty (including an unset ${DATABASE_URL}) means: start a
	// throwaway local PostgreSQL (engine/localpg).
	URL    string `yaml:"url"`
	URLPos Pos    `yaml:"-"`
	// ApplicationName is set on every connection. Default "planrun-" and
	// the plan's name, sanitised ([ApplicationNameFor]).
	ApplicationName string `yaml:"application_name"`
	// Replicas is how many application instances share the server, each
	// with its own pool: the run opens that many pools, spreads the load
	// over them (Balance), and the capacity preflight check counts them.
	// Default 1.
	Replicas int `yaml:"replicas"`
	// Balance is how an open model's arrivals are spread over the replicas:
	// "round_robin" (the default) or "random". Closed-model users are
	// always assigned round-robin.
	Balance string `yaml:"balance"`
	// Network, when set, puts a simulated network (an in-process TCP proxy
	// on 127.0.0.1) between the pool's connections and the server.
	// Preflight and setup connect directly. Default nil: no proxy.
	Network *Network `yaml:"network"`
	// Service, when set, is the application under test (target.service):
	// the mixes' http operations go to it, and URL above is the database it
	// uses. Default nil: no service; the plan's pool is planrun's own.
	Service *Service `yaml:"service"`
}

// Service is the application under test, with its own pool
// (target.service): a running one (URL), or one planrun starts (Start) and
// hands the database through its proxy. Every value is ${VAR}-expanded.
type Service struct {
	// URL is the base URL of a running service (usually
	// ${APPLICATION_URL}); a lone unset ${VAR} is empty. When not empty,
	// planrun starts nothing and Start is ignored. Empty: planrun starts
	// Start.
	URL    string `yaml:"url"`
	URLPos Pos    `yaml:"-"`
	// Start is the argv that starts the service (argv[0] looked up in
	// PATH); "{port}" in an element is replaced by a free port planrun
	// picks, where the service must listen. Required when URL is empty; it
	// or an Env value must hold "{port}".
	Start    []string `yaml:"start"`
	StartPos Pos      `yaml:"-"`
	// Dir is the working directory of Start, written relative to the plan
	// file and resolved to an absolute path at load time. Default: the
	// plan file's directory.
	Dir    string `yaml:"dir"`
	DirPos Pos    `yaml:"-"`
	// Env holds variables added to planrun's environment for the service;
	// "{port}" in a value is replaced by the port. Values are
	// ${VAR}-expanded (`POOL_SIZE: ${POOL_SIZE:-20}`); those whose names
	// look like secrets never appear in any output. Default none.
	Env map[string]string `yaml:"env"`
	// DatabaseEnv names the variable that hands the service its database
	// URL (through planrun's proxy) when planrun starts it. Default
	// DefaultServiceDatabaseEnv (DATABASE_URL).
	DatabaseEnv string `yaml:"database_env"`
	// Ready is the path polled with GET until it answers 2xx, before any
	// load. It begins with '/'. Default DefaultServiceReady (/healthz).
	Ready string `yaml:"ready"`
	// Processes is how many pools the service runs (workers × pools per
	// worker): its capacity is Processes × (pool.size + pool.max_overflow).
	// Default DefaultServiceProcesses (1).
	Processes int `yaml:"processes"`
	// ApplicationName finds the service's backends in pg_stat_activity.
	// Default: the name planrun puts in the database URL it hands a service
	// it starts, "planrun-" and the plan's name and "-service"
	// ([ServiceApplicationNameFor]); a running service must set it itself.
	ApplicationName string `yaml:"application_name"`
	Pos             Pos    `yaml:"-"`
}

// Network is the simulated network between the pool and the server
// (target.network).
type Network struct {
	// Latency is added to every round trip, half on the way to the server
	// and half on the way back. Default 0.
	Latency Duration `yaml:"latency"`
	// Jitter spreads each delay uniformly by ± Jitter/2 per direction (so a
	// round trip varies by at most ± Jitter); bytes on one connection stay in
	// order. At most Latency. Default 0.
	Jitter Duration `yaml:"jitter"`
	// Bandwidth limits each connection, per direction, in bytes per second;
	// written `100MB/s`, `10Mbit/s`, `512KiB/s`. Default 0 = unlimited.
	Bandwidth Bandwidth `yaml:"bandwidth"`
	Pos       Pos       `yaml:"-"`
}

// Bandwidth is a rate in bytes per second. A plan writes it with a unit:
// B/s, kB/s, MB/s, GB/s (powers of 1000), KiB/s, MiB/s, GiB/s (powers of
// 1024), or kbit/s, Mbit/s, Gbit/s (bits, powers of 1000).
type Bandwidth int64

// Fault kinds (Fault.Fault).
const (
	// FaultStall: the network path stops forwarding for For; in-flight
	// queries and new connects hang. Needs target.network.
	FaultStall = "stall"
	// FaultLatency: Add more latency on every round trip for For. Needs target.network.
	FaultLatency = "latency"
	// FaultReset: every pool connection's TCP stream is reset at once. Needs target.network.
	FaultReset = "reset"
	// FaultTerminateBackends: pg_terminate_backend on Share of the pool's backends.
	FaultTerminateBackends = "terminate_backends"
	// FaultLock: another session holds ACCESS EXCLUSIVE on Table for For.
	FaultLock = "lock"
	// FaultRestart: the embedded server shuts down (fast), stays down for
	// For, and starts again on the same port. Embedded server only.
	FaultRestart = "restart"
)

// FaultKinds lists the fault kinds in documentation order.
var FaultKinds = []string{FaultStall, FaultLatency, FaultReset, FaultTerminateBackends, FaultLock, FaultRestart}

// Fault is one scheduled fault of a scenario.
type Fault struct {
	// At is the offset from the scenario's start, scaled by --time-scale
	// like durations. Required; before the scenario's end.
	At Duration `yaml:"at"`
	// Fault is the kind: one of FaultKinds. Required.
	Fault string `yaml:"fault"`
	// For is how long the fault lasts: required for stall, latency, lock and
	// restart; not allowed for reset and terminate_backends (instant).
	For Duration `yaml:"for"`
	// Add is the latency a `latency` fault adds to every round trip. Required for latency.
	Add Duration `yaml:"add"`
	// Share is the fraction (written `50%`; more than 0%, at most 100%) of
	// the pool's backends a terminate_backends fault terminates. Default 1
	// (100%) when not written (SharePos.Line == 0).
	Share    Percent `yaml:"share"`
	SharePos Pos     `yaml:"-"`
	// Table is the table a lock fault locks. Required for lock.
	Table string `yaml:"table"`
	Pos   Pos    `yaml:"-"`
}

// Percent is a fraction, written in a plan as a percentage: `50%` is 0.5.
type Percent float64

// Pool is the application's pool, with SQLAlchemy QueuePool semantics.
type Pool struct {
	// Size is the number of connections kept open once created (pool_size). Default 5.
	Size int `yaml:"size"`
	// MaxOverflow is the number of extra connections allowed under load; they
	// are closed on return while Size connections are idle (max_overflow). Default 10.
	MaxOverflow int `yaml:"max_overflow"`
	// Timeout is how long an acquire may wait before it fails (pool_timeout). Default 30s.
	Timeout Duration `yaml:"timeout"`
	// Recycle replaces connections older than this (pool_recycle). Default 0 = never.
	Recycle Duration `yaml:"recycle"`
	// PrePing checks a connection before handing it out (pool_pre_ping). Default false.
	PrePing bool `yaml:"pre_ping"`
	// ConnectTimeout bounds opening one connection. Default 5s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// LeakThreshold: a connection held longer than this is reported as a leak.
	// Default 0 = the scenario's duration.
	LeakThreshold Duration `yaml:"leak_threshold"`
	// IsolationLevel is what a checkout begins before its first statement,
	// by SQLAlchemy's name (isolation_level): "read_committed" (default, as
	// SQLAlchemy's asyncpg dialect), "repeatable_read", "serializable", or
	// "autocommit" (no BEGIN and no reset, as pgbench and autocommit services).
	IsolationLevel string `yaml:"isolation_level"`
	// ResetOnReturn is what a connection returned with its transaction open
	// gets (pool_reset_on_return): "rollback" (default), "commit", or
	// "none" (the transaction stays open on the idle connection).
	ResetOnReturn string `yaml:"reset_on_return"`
	// UseLIFO hands out the most recently returned idle connection
	// (pool_use_lifo). Default false: the oldest (FIFO).
	UseLIFO bool `yaml:"use_lifo"`
}

// Statement is one SQL statement with optional expr arguments ($1, $2, ...).
// In YAML it is either a plain string (the SQL) or a mapping {sql, args}.
type Statement struct {
	SQL    string `yaml:"sql"`
	SQLPos Pos    `yaml:"-"`
	Args   []Expr `yaml:"args"`
	// Pos is where the statement is written: its scalar or its mapping.
	Pos Pos `yaml:"-"`
}

// Mix is a weighted list of operations.
type Mix []Operation

// Operation is one kind of unit of work a user does: on one connection, a
// single statement (SQL + Args) or a Transaction of several statements,
// followed by an optional Hold; or, against target.service, one HTTP
// request (HTTP + Args, Headers, Body, Expect, Timeout). Exactly one of
// SQL, Transaction and HTTP is written.
type Operation struct {
	Name string `yaml:"name"`
	// Weight is the relative frequency of this operation in its mix. Default 1; must be > 0.
	Weight float64 `yaml:"weight"`
	SQL    string  `yaml:"sql"`
	// Args fill the $1, $2, … of SQL, or of HTTP's path, Headers and Body.
	Args        []Expr      `yaml:"args"`
	Transaction []Statement `yaml:"transaction"`
	// Hold keeps the connection this long after the statements
	// (application work): a duration, or MIN..MAX drawn uniformly per
	// operation, like think. Default 0. Not with HTTP.
	Hold DurationRange `yaml:"hold"`
	// HTTP is `METHOD PATH`, the path relative to target.service.url, e.g.
	// `GET /accounts/$1/balance` ([Operation.Method], [Operation.Path]).
	HTTP    string `yaml:"http"`
	HTTPPos Pos    `yaml:"-"`
	// Headers are sent with every request of an HTTP operation; values may
	// hold $n and are ${VAR}-expanded (`Authorization: Bearer
	// ${API_TOKEN}`). Default none.
	Headers map[string]string `yaml:"headers"`
	// Body is the request body of an HTTP operation; $n in it are filled
	// JSON-encoded when the body is JSON (the default content type).
	// Default empty: no body.
	Body string `yaml:"body"`
	// Expect lists the statuses that count as success. Default: any 2xx.
	Expect []int `yaml:"expect"`
	// Timeout bounds one request, from sending to the end of the response
	// body. Default 30s (httpop.DefaultTimeout).
	Timeout Duration `yaml:"timeout"`
	Pos     Pos      `yaml:"-"`
}

// Scenario is one load phase, run with a fresh pool.
type Scenario struct {
	Name string `yaml:"name"`
	// Mix names an entry of Plan.Mixes. Required when the plan has more than
	// one mix; defaults to the only mix otherwise.
	Mix    string `yaml:"mix"`
	MixPos Pos    `yaml:"-"`
	// Users is the closed-model concurrency (with RampUp and Duration);
	// exclusive with Rate and with Stages.
	Users int `yaml:"users"`
	// Rate is the open-model arrival rate (with Duration): "400/s" or
	// "90/m", stored in arrivals per second; exclusive with Users and with
	// Stages. Operations start on schedule whether or not earlier ones have
	// finished.
	Rate Rate `yaml:"rate"`
	// Arrival is how an open model spreads its arrivals: "poisson"
	// (independent clients, the default) or "uniform" (fixed spacing).
	Arrival string `yaml:"arrival"`
	// MaxInFlight bounds an open model's unfinished operations: an arrival
	// beyond it is dropped and counted. Default DefaultMaxInFlight.
	MaxInFlight int `yaml:"max_in_flight"`
	// RampUp ramps linearly from 0 to Users. Default 0 (all users at once).
	RampUp Duration `yaml:"ramp_up"`
	// Duration of the scenario including RampUp. Required with Users.
	Duration    Duration `yaml:"duration"`
	DurationPos Pos      `yaml:"-"`
	// Stages is a ramp profile; exclusive with Users.
	Stages []Stage `yaml:"stages"`
	// Think is the pause between a user's operations. Default 0.
	Think DurationRange `yaml:"think"`
	// RecoveryAfter is the 1-based stage after whose end recovery is measured. Default 0 = not measured.
	RecoveryAfter int `yaml:"recovery_after"`
	// RecoveryThreshold is the acquire wait under which the pool counts as
	// healthy again when recovery is measured (docs/metrics.md). Default 50ms.
	RecoveryThreshold Duration `yaml:"recovery_threshold"`
	// Faults are scheduled faults, in the order written; recovery is
	// measured after each. Default none.
	Faults []Fault `yaml:"faults"`
	// Warmup is a period at the scenario's start that runs as planned but is
	// left out of the scenario's figures and assertions (the time series
	// keeps it, marked). It counts in the scenario's duration and is scaled
	// by --time-scale like it. Default 0; must be shorter than the scenario.
	Warmup Duration `yaml:"warmup"`
	Pos    Pos      `yaml:"-"`
}

// Stage ramps linearly from the previous level to Users (closed model) or
// Rate (open model) over Ramp, then holds until Duration (which includes
// Ramp) ends. The stages of a scenario are all of one model.
type Stage struct {
	Users       int      `yaml:"users"`
	Rate        Rate     `yaml:"rate"`
	Ramp        Duration `yaml:"ramp"`
	Duration    Duration `yaml:"duration"`
	DurationPos Pos      `yaml:"-"`
	Pos         Pos      `yaml:"-"`
}

// Severity of an assertion.
type Severity string

// Severities. Critical (the default) fails the verdict; Warning is reported only.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
)

// Assertion is a named boolean expr expression over a scenario's results.
type Assertion struct {
	Name  string `yaml:"name"`
	Check Expr   `yaml:"check"`
	// Severity: critical (default) or warning.
	Severity Severity `yaml:"severity"`
	// Scenarios narrows the assertion to these scenario names. Default: all.
	Scenarios    []string `yaml:"scenarios"`
	ScenariosPos Pos      `yaml:"-"`
	// AbortOnFail evaluates the check live, once a second, and stops the run
	// when it fails (after After has passed in the scenario). Default false.
	AbortOnFail bool     `yaml:"abort_on_fail"`
	After       Duration `yaml:"after"`
	Pos         Pos      `yaml:"-"`
}

// Verdict holds the labels printed for a pass and a fail.
type Verdict struct {
	// Pass label. Default "APPROVED FOR PRODUCTION".
	Pass string `yaml:"pass"`
	// Fail label. Default "NOT APPROVED FOR PRODUCTION".
	Fail string `yaml:"fail"`
	// Builtins applies the built-in critical checks (operations succeeded,
	// success_rate >= 0.95, leaks == 0) to every scenario. Default (nil)
	// true; turning them off is discouraged (docs/assertions.md).
	Builtins *bool `yaml:"builtins"`
	// Generator is how far behind its own schedule the load generator may
	// fall before the run is INCONCLUSIVE rather than approved or not.
	Generator GeneratorLimits `yaml:"generator"`
}

// GeneratorLimits say how late the load generator may be and still count
// as delivering the planned load; beyond them a scenario's passes are
// undecided (docs/assertions.md, "Decided and undecided").
type GeneratorLimits struct {
	// MaxTimerLateness: a closed model's users keep their think-time
	// schedule while the generator's timer lateness p99 is at most this, or
	// while waking late costs them at most 10 % of the planned load.
	// Default DefaultMaxTimerLateness.
	MaxTimerLateness Duration `yaml:"max_timer_lateness"`
	// MaxLag: an open model's arrivals count as delivered while their p99
	// start lag (actual start minus scheduled start) is at most this.
	// Default DefaultMaxLag.
	MaxLag Duration `yaml:"max_lag"`
}

// Rate is an arrival rate in arrivals per second; a plan writes it "N/s" or
// "N/m" (per minute: `90/m` is 1.5 per second), at most [MaxRate] per second.
type Rate float64

// How arrivals are spread over replicas (Target.Balance).
const (
	BalanceRoundRobin = "round_robin"
	BalanceRandom     = "random"
)

// Isolation levels of a checkout (Pool.IsolationLevel), SQLAlchemy's
// isolation_level in lower case with underscores.
const (
	IsolationReadCommitted  = "read_committed"
	IsolationRepeatableRead = "repeatable_read"
	IsolationSerializable   = "serializable"
	IsolationAutocommit     = "autocommit"
)

// IsolationLevels lists the valid Pool.IsolationLevel values.
var IsolationLevels = []string{IsolationReadCommitted, IsolationRepeatableRead, IsolationSerializable, IsolationAutocommit}

// What a connection returned in a transaction gets (Pool.ResetOnReturn).
const (
	ResetRollback = "rollback"
	ResetCommit   = "commit"
	ResetNone     = "none"
)

// ResetsOnReturn lists the valid Pool.ResetOnReturn values.
var ResetsOnReturn = []string{ResetRollback, ResetCommit, ResetNone}

// The arrival processes of an open model (Scenario.Arrival).
const (
	// ArrivalPoisson: independent clients; exponential gaps with mean
	// 1/rate (the default).
	ArrivalPoisson = "poisson"
	// ArrivalUniform: fixed spacing of 1/rate.
	ArrivalUniform = "uniform"
)

// Defaults, in one place.
const (
	DefaultApplicationName = "planrun" // the prefix of the default, see ApplicationNameFor
	DefaultReplicas        = 1
	DefaultBalance         = BalanceRoundRobin
	DefaultPoolSize        = 5
	DefaultMaxOverflow     = 10
	DefaultPoolTimeout     = 30 * time.Second
	DefaultConnectTimeout  = 5 * time.Second
	// DefaultIsolationLevel and DefaultResetOnReturn are those of the
	// guide's stack, SQLAlchemy's async engine over asyncpg.
	DefaultIsolationLevel = IsolationReadCommitted
	DefaultResetOnReturn  = ResetRollback
	DefaultWeight         = 1.0
	// DefaultMaxInFlight is an open-model scenario's max_in_flight, and
	// DefaultArrival its arrival process.
	DefaultMaxInFlight = 10000
	DefaultArrival     = ArrivalPoisson
	// DefaultMaxTimerLateness and DefaultMaxLag are verdict.generator's.
	DefaultMaxTimerLateness = 20 * time.Millisecond
	DefaultMaxLag           = 20 * time.Millisecond
	// DefaultRecoveryThreshold is a scenario's recovery_threshold when it
	// measures recovery (recovery_after) and does not set one.
	DefaultRecoveryThreshold = 50 * time.Millisecond
	DefaultVerdictPass       = "APPROVED FOR PRODUCTION"
	// DefaultServiceDatabaseEnv, DefaultServiceReady and
	// DefaultServiceProcesses are target.service's database_env, ready and
	// processes (engine/service's defaults too).
	DefaultServiceDatabaseEnv = "DATABASE_URL"
	DefaultServiceReady       = "/healthz"
	DefaultServiceProcesses   = 1
	DefaultVerdictFail        = "NOT APPROVED FOR PRODUCTION"
)
