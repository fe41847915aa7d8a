package results

import (
	"fmt"
	"time"
)

// Service is the service under test's pool as the database server saw it
// (target.service; package engine/servicewatch samples pg_stat_activity by
// application_name), and its connections as planrun's proxy counted them.
// Assertions read it as service.*.
//
// The level figures (Backends, InUse, Utilization, LockWaits, Headroom)
// are taken over samples of the measured window (after the warm-up), one
// every Interval: they are sampled, not exact; a backend that came and
// went between two samples is not in them. Leaks and
// IdleInTransaction.Max cover the whole scenario. Connections are exact.
type Service struct {
	// ApplicationName finds the service's backends in pg_stat_activity.
	ApplicationName string `json:"application_name"`
	// Capacity is processes × (size + max_overflow): what the service's
	// pools may open together.
	Capacity int `json:"capacity" expr:"capacity"`
	// Interval is the time between two samples.
	Interval time.Duration `json:"interval"`
	// Samples taken in the measured window, and samples missed over the
	// whole watch: monitor queries that failed, reconnections that failed,
	// and intervals after the connection was lost for good.
	Samples int `json:"samples"`
	Missed  int `json:"missed"`
	// MissedReason is the first failure's message (redacted), when Missed > 0.
	MissedReason string `json:"missed_reason,omitempty"`

	// Backends counts the service's backends; InUse those active or idle
	// in transaction (a connection checked out of the service's pool).
	Backends ServiceLevel `json:"backends" expr:"backends"`
	InUse    ServiceLevel `json:"in_use" expr:"in_use"`
	// Utilization is InUse ÷ Capacity (0 without a capacity).
	Utilization       Utilization       `json:"utilization" expr:"utilization"`
	IdleInTransaction IdleInTransaction `json:"idle_in_transaction" expr:"idle_in_transaction"`
	LockWaits         LockWaits         `json:"lock_waits" expr:"lock_waits"`
	Headroom          Headroom          `json:"headroom" expr:"headroom"`
	// Saturation is the pool seen at capacity: InUse at Capacity (0
	// without a capacity).
	Saturation ServiceSaturation `json:"saturation" expr:"saturation"`

	// Leaks counts the leaks found; LeakDetails describes the first
	// MaxServiceLeakDetails of them.
	Leaks       int           `json:"leaks" expr:"leaks"`
	LeakDetails []ServiceLeak `json:"leak_details,omitempty"`
	// DrainChecked says whether the check after the drain was made; when
	// it could not be, DrainNotChecked says why, and Leaks holds only the
	// held leaks.
	DrainChecked    bool   `json:"drain_checked"`
	DrainNotChecked string `json:"drain_not_checked,omitempty"`

	// NotFound says that no backend with ApplicationName was seen by the
	// end of the warm-up (with the hint to set
	// target.service.application_name). The figures are then zeros that
	// mean nothing: the scenario fails, never reports them as measured.
	NotFound string `json:"not_found,omitempty"`

	// Connections are the service's server connections counted at
	// planrun's proxy, exactly: only when planrun started the service and
	// handed it the proxy's URL (zero otherwise).
	Connections ServiceConnections `json:"connections" expr:"connections"`
	// AtDrain counts the service's backends and its connections at the
	// proxy together, at the drain check; nil when there is no proxy (a
	// running service) or the check was not made.
	AtDrain *ServiceAtDrain `json:"at_drain,omitempty"`

	// Last is the latest sample, in a live snapshot's scenario only (nil
	// in a report and before the first sample): the live series
	// planrun_service_* and planrun_server_headroom serve it (package
	// metrics; docs/metrics.md).
	Last *ServiceSample `json:"-"`
}

// ServiceSample is the service's backends at one sample, as the live
// series serve them.
type ServiceSample struct {
	// InUse counts the backends active or idle in transaction;
	// Utilization is InUse ÷ Service.Capacity (0 without a capacity).
	InUse       int
	Utilization float64
	// OldestIdleInTransaction is how long the oldest backend idle in
	// transaction had been so (0 when none was).
	OldestIdleInTransaction time.Duration
	// Headroom is the server's free connection slots.
	Headroom int
}

// MaxServiceLeakDetails bounds Service.LeakDetails; Service.Leaks counts all.
const MaxServiceLeakDetails = 20

// ServiceLevel summarises a count over the samples.
type ServiceLevel struct {
	Max  int     `json:"max" expr:"max"`
	Mean float64 `json:"mean" expr:"mean"`
	// P95 is the lowest level at or below which 95 % of the samples were.
	P95 int `json:"p95" expr:"p95"`
}

// IdleInTransaction summarises the service's backends seen idle in
// transaction.
type IdleInTransaction struct {
	// Max is the longest time a backend was seen idle in transaction (from
	// its state_change), at any sample or at the drain check.
	Max time.Duration `json:"max" expr:"max"`
}

// LockWaits summarises the service's backends seen waiting on a lock.
type LockWaits struct {
	Max int `json:"max" expr:"max"`
}

// Headroom summarises the server's free connection slots: max_connections
// − superuser_reserved_connections − reserved_connections − all backends.
type Headroom struct {
	// Min is the fewest free slots seen; with no sample, 0.
	Min int `json:"min" expr:"min"`
}

// ServiceSaturation summarises the episodes in which the service's pool
// was at capacity (in use = capacity, utilization 100 %), as sampled: an
// episode begins at the first sample at capacity and ends at the first
// sample below it or at a missed sample, so its length is known to one
// interval, and an episode shorter than an interval may fall between two
// samples unseen.
type ServiceSaturation struct {
	// Episodes counts the episodes that began in the samples summarised.
	Episodes int `json:"episodes" expr:"episodes"`
	// Longest is the longest episode seen (one under way counts as long as
	// it has lasted so far); 0 without one.
	Longest time.Duration `json:"longest" expr:"longest"`
}

// ServiceAtDrain is the service's connections counted twice at a quiet
// moment, the drain check: the backends the server has with the
// service's application_name, and the connections open through planrun's
// proxy. They agree when every connection of the service goes through the
// proxy and carries the application_name.
type ServiceAtDrain struct {
	Backends  int `json:"backends"`
	ProxyOpen int `json:"proxy_open"`
}

// Mismatch says what a disagreement of the two counts means, or "" when
// they agree.
func (a *ServiceAtDrain) Mismatch() string {
	switch {
	case a == nil || a.Backends == a.ProxyOpen:
		return ""
	case a.Backends > a.ProxyOpen:
		return fmt.Sprintf("at the drain the server had %d backends with the service's application_name, %d of them through planrun's proxy: the rest bypass the proxy (another pool, or a database URL not read from database_env), so faults and connection counts miss them", a.Backends, a.ProxyOpen)
	default:
		return fmt.Sprintf("at the drain planrun's proxy held %d connections of the service, the server had %d backends with its application_name: the service does not set the application_name on all of them, so the watch misses some (set it from the URL planrun hands over)", a.ProxyOpen, a.Backends)
	}
}

// ServiceConnections counts the service's server connections at planrun's
// proxy.
type ServiceConnections struct {
	Opened  int64 `json:"opened" expr:"opened"`
	Closed  int64 `json:"closed" expr:"closed"`
	MaxOpen int   `json:"max_open" expr:"max_open"`
}

// ServiceLeak is a backend of the service that held its connection: idle
// in transaction past the leak threshold, or still checked out after the
// load drained.
type ServiceLeak struct {
	PID int `json:"pid"`
	// Age is how long the backend had been in State (from its
	// state_change) when last seen.
	Age time.Duration `json:"age"`
	// State is pg_stat_activity's state when last seen, e.g. "idle in
	// transaction".
	State string `json:"state"`
	// Query is its last query, redacted, with control characters escaped,
	// at most 300 bytes.
	Query string `json:"query"`
	// Kind is "held" (idle in transaction past the threshold) or
	// "unreleased" (still checked out after the drain), as for Leak.
	Kind string `json:"kind"`
}
