// Package alerts writes Prometheus alerting rules from a plan: what the
// plan says the pool must do (its capacity, its utilization ceiling, how
// long a connection may sit idle in a transaction) turned into the alerts
// that hold the service to it after the deploy (planrun alerts).
//
// Two sources of metrics are supported: the planrun_ metrics that
// `planrun watch` serves ([SourceWatch]), and postgres_exporter's standard
// pg_stat_activity_count and pg_settings_* ([SourcePostgresExporter]), so
// a team that already runs postgres_exporter needs no new process.
package alerts

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/schema"
)

// Source is where the rules read the pool's figures.
type Source string

const (
	SourceWatch            Source = "watch"
	SourcePostgresExporter Source = "postgres_exporter"
)

// Sources lists the sources, default first: postgres_exporter, which
// needs no new process.
var Sources = []Source{SourcePostgresExporter, SourceWatch}

// The metrics the watch source reads, labelled by scenario: the service's
// figures as they stand at each sample. A run of a plan with
// target.service serves them at --metrics-addr, and `planrun watch` after
// the deploy.
const (
	MetricUtilization     = "planrun_service_utilization"                     // in use ÷ capacity, 0..1
	MetricInUse           = "planrun_service_in_use"                          // backends active or idle in transaction
	MetricCapacity        = "planrun_service_capacity"                        // processes × (size + max_overflow) × replicas
	MetricIdleInTxMax     = "planrun_service_idle_in_transaction_max_seconds" // the oldest idle-in-transaction backend's age
	MetricHeadroom        = "planrun_server_headroom"                         // max_connections − reserved − all backends
	MetricMaxConnections  = "planrun_server_max_connections"                  // the server's max_connections
	defaultUtilization    = 0.85                                              // the guide's threshold
	headroomShare         = 0.10                                              // server headroom below this share of max_connections
	utilizationFor        = 5 * time.Minute
	capacityFor           = time.Minute
	headroomFor           = 5 * time.Minute
	postgresExporterInUse = `active|idle in transaction|idle in transaction \\(aborted\\)`
)

// Rule is one alerting rule, in Prometheus's rule file shape.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Group is a named group of rules.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Limits are the figures the rules hold the pool to, each with where it
// came from.
type Limits struct {
	// Capacity is replicas × processes × (size + max_overflow): every
	// pool of every instance of the service (processes is
	// target.service.processes, 1 without a service). planrun watch
	// holds the service to the same figure.
	Capacity int
	// Utilization is the ceiling of in use ÷ capacity: the lowest
	// `utilization.*` ceiling among the plan's assertions, else 0.85.
	Utilization float64
	// UtilizationFrom names the assertion the ceiling came from ("" for
	// the default).
	UtilizationFrom string
	// IdleInTransaction is how long a backend may stay idle in a
	// transaction: pool.leak_threshold, else pool.timeout (a transaction
	// held idle longer than an acquire may wait starves the waiters).
	IdleInTransaction time.Duration
	// Database is the target's database name, when the plan's URL names
	// one: the postgres_exporter rules then count only its backends.
	Database string
}

// ceiling matches an assertion that keeps a utilization figure below a
// number: `utilization.max < 0.9`, `utilization.p95 <= 0.8`.
var ceiling = regexp.MustCompile(`\butilization\.(?:mean|p95|max)\s*(<=|<)\s*([0-9]*\.?[0-9]+)`)

// LimitsOf reads the limits from plan.
func LimitsOf(p *schema.Plan) Limits {
	l := Limits{
		Capacity:          max(p.Target.Replicas, 1) * processesOf(p) * (p.Pool.Size + p.Pool.MaxOverflow),
		Utilization:       defaultUtilization,
		IdleInTransaction: p.Pool.LeakThreshold.D(),
		Database:          databaseOf(p.Target.URL),
	}
	if l.IdleInTransaction <= 0 {
		l.IdleInTransaction = p.Pool.Timeout.D()
	}
	for _, a := range p.Assertions {
		for _, m := range ceiling.FindAllStringSubmatch(a.Check.Src, -1) {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil || v <= 0 {
				continue
			}
			// The lowest ceiling; the plan's own at the guide's value is
			// credited to the plan.
			if v < l.Utilization || v == l.Utilization && l.UtilizationFrom == "" {
				l.Utilization, l.UtilizationFrom = v, a.Name
			}
		}
	}
	return l
}

// processesOf is target.service.processes, 1 without a service.
func processesOf(p *schema.Plan) int {
	if s := p.Target.Service; s != nil && s.Processes > 1 {
		return s.Processes
	}
	return 1
}

// databaseOf is the database a PostgreSQL URL or key=value DSN names ("" when none).
func databaseOf(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			return strings.TrimPrefix(u.Path, "/")
		}
		return ""
	}
	for _, f := range strings.Fields(dsn) {
		if k, v, ok := strings.Cut(f, "="); ok && k == "dbname" {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

// Rules returns the alerting rules of plan for src, in one group named
// after the plan.
func Rules(p *schema.Plan, src Source) (Group, error) {
	l := LimitsOf(p)
	if l.Capacity <= 0 {
		return Group{}, fmt.Errorf("the plan's pool has no capacity (size + max_overflow = 0): there is nothing to alert on")
	}
	var q queries
	switch src {
	case SourceWatch:
		q = watchQueries()
	case SourcePostgresExporter:
		q = exporterQueries(l)
	default:
		return Group{}, fmt.Errorf("source %q: want one of %s", src, joinSources())
	}
	labels := func(severity string) map[string]string {
		return map[string]string{"severity": severity, "planrun_plan": p.Name, "planrun_source": string(src)}
	}
	util := Rule{
		Alert:  "PlanrunPoolUtilizationHigh",
		Expr:   fmt.Sprintf("%s > %s", q.utilization(l.Capacity), num(l.Utilization)),
		For:    promDuration(utilizationFor),
		Labels: labels("warning"),
		Annotations: map[string]string{
			"summary":     fmt.Sprintf("Pool utilization above %s for %s", pct(l.Utilization), promDuration(utilizationFor)),
			"description": fmt.Sprintf("In use ÷ capacity (%d connections) is {{ $value | humanizePercentage }}: the ceiling %s.", l.Capacity, from(l)),
			"runbook":     "Find what holds connections (pg_stat_activity by state and query); if the load grew, rerun the plan with the new figures before raising size or max_overflow.",
		},
	}
	if l.UtilizationFrom != "" {
		util.Labels["planrun_assertion"] = l.UtilizationFrom
	}
	leak := promDuration(l.IdleInTransaction)
	return Group{Name: "planrun-" + p.Name, Rules: []Rule{
		util,
		{
			Alert:  "PlanrunPoolAtCapacity",
			Expr:   fmt.Sprintf("%s >= %d", q.inUse, l.Capacity),
			For:    promDuration(capacityFor),
			Labels: labels("critical"),
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("Every connection of the pool in use (%d) for %s", l.Capacity, promDuration(capacityFor)),
				"description": fmt.Sprintf("{{ $value }} backends in use of a capacity of %d (replicas × processes × (size + max_overflow)): new checkouts wait up to pool.timeout, then fail.", l.Capacity),
				"runbook":     "Look for a leak or a slow statement first (idle in transaction, lock waits); then load-test a larger pool with the plan.",
			},
		},
		{
			Alert:  "PlanrunIdleInTransactionTooLong",
			Expr:   fmt.Sprintf("%s > %s", q.idleInTx, num(l.IdleInTransaction.Seconds())),
			Labels: labels("warning"),
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("A connection idle in a transaction for more than %s", leak),
				"description": fmt.Sprintf("The oldest backend idle in transaction is {{ $value | humanizeDuration }} old (limit %s: %s); it holds its pool slot and its locks.", leak, leakFrom(p)),
				"runbook":     "Find it: SELECT pid, now() - state_change, query FROM pg_stat_activity WHERE state = 'idle in transaction'; fix the code path that does not return its connection.",
			},
		},
		{
			Alert:  "PlanrunServerHeadroomLow",
			Expr:   fmt.Sprintf("%s < %s", q.headroom, num(headroomShare)),
			For:    promDuration(headroomFor),
			Labels: labels("warning"),
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("The server has less than %s of max_connections free", pct(headroomShare)),
				"description": "Free connections ÷ max_connections is {{ $value | humanizePercentage }}: another instance scaling out could be refused connections.",
				"runbook":     "Count the server's clients (pg_stat_activity by application_name); lower pools or raise max_connections, and rerun the plan's capacity preflight.",
			},
		},
	}}, nil
}

// queries are a source's expressions of the pool's figures.
type queries struct {
	utilization func(capacity int) string
	inUse       string
	idleInTx    string
	headroom    string // free share of max_connections
}

func watchQueries() queries {
	return queries{
		utilization: func(int) string { return fmt.Sprintf("max by (scenario) (%s)", MetricUtilization) },
		inUse:       fmt.Sprintf("max by (scenario) (%s)", MetricInUse),
		idleInTx:    fmt.Sprintf("max by (scenario) (%s)", MetricIdleInTxMax),
		headroom:    fmt.Sprintf("min(%s / %s)", MetricHeadroom, MetricMaxConnections),
	}
}

// exporterQueries read postgres_exporter's pg_stat_activity collector
// (pg_stat_activity_count and pg_stat_activity_max_tx_duration by datname
// and state) and pg_settings_*. They count every backend of the database
// (or of the server, when the plan names no database), not only the
// service's: the description says so.
func exporterQueries(l Limits) queries {
	db := ""
	if l.Database != "" {
		db = fmt.Sprintf(`datname=%q, `, l.Database)
	}
	inUse := fmt.Sprintf(`sum(pg_stat_activity_count{%sstate=~"%s"})`, db, postgresExporterInUse)
	return queries{
		utilization: func(capacity int) string { return fmt.Sprintf("%s / %d", inUse, capacity) },
		inUse:       inUse,
		idleInTx:    fmt.Sprintf(`max(pg_stat_activity_max_tx_duration{%sstate=~"idle in transaction.*"})`, db),
		headroom: "(max(pg_settings_max_connections) - max(pg_settings_superuser_reserved_connections) - sum(pg_stat_activity_count))" +
			" / max(pg_settings_max_connections)",
	}
}

func joinSources() string {
	s := make([]string, len(Sources))
	for i, src := range Sources {
		s[i] = string(src)
	}
	return strings.Join(s, ", ")
}

// from says where the utilization ceiling came from.
func from(l Limits) string {
	if l.UtilizationFrom != "" {
		return fmt.Sprintf("%s, from the plan's assertion %q", pct(l.Utilization), l.UtilizationFrom)
	}
	return fmt.Sprintf("%s, the guide's threshold (no utilization assertion in the plan)", pct(l.Utilization))
}

func leakFrom(p *schema.Plan) string {
	if p.Pool.LeakThreshold > 0 {
		return "pool.leak_threshold"
	}
	return "pool.timeout, as the plan sets no pool.leak_threshold"
}

// num writes v for PromQL, without trailing zeros.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// pct writes a share as a percentage: 0.85 → "85%".
func pct(v float64) string { return num(v*100) + "%" }

// promDuration writes d as Prometheus does: 5m, 90s, 1h30m.
func promDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		d    time.Duration
		unit string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.unit)
			d -= n * u.d
		}
	}
	return b.String()
}
