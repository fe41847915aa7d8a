// Package preflight runs the checks planrun makes before any load: can the
// target be reached, what is it, how far away is it, does the pool under test
// fit in the server's connection slots, which server-side timeouts apply, and
// do the pool settings agree with each other.
//
// Every check runs on one plain connection opened for the purpose (never the
// pool under test), which is closed before [Run] returns. A failing check is
// never a Go error: it is a [results.Check] with status "fail", and the
// critical ones ([Result.Failed]) stop the run before any load.
package preflight

import (
	"context"
	"crypto/tls"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// Defaults and thresholds of [Run].
const (
	// DefaultPings is the number of SELECT 1 round trips the rtt check times
	// when [Config.Pings] is 0.
	DefaultPings = 20
	// DefaultConnectTimeout bounds the reachability check when neither
	// [Config.Pool].ConnectTimeout nor the connection string's connect_timeout
	// is set.
	DefaultConnectTimeout = 5 * time.Second
	// QueryTimeout bounds each statement a check runs after connecting.
	QueryTimeout = 10 * time.Second

	// RTTWarn is the median round trip above which the rtt check warns: every
	// statement pays it once (a three-statement transaction holds its pool
	// connection for at least five round trips with BEGIN and COMMIT), so
	// above 10 ms the network, not the pool, tends to dominate the latencies
	// the run measures.
	RTTWarn = 10 * time.Millisecond
	// CapacityHeadroom is the spare fraction of the available connection
	// slots below which the capacity check warns (10%).
	CapacityHeadroom = 0.10
	// MinRecycle is the pool.recycle below which the consistency check warns
	// about connection churn (1 minute).
	MinRecycle = time.Minute
)

// Check names, in the order [Run] reports them.
const (
	CheckReachability = "reachability"
	CheckServer       = "server"
	CheckRTT          = "rtt"
	CheckCapacity     = "capacity"
	CheckTimeouts     = "timeouts"
	CheckConsistency  = "consistency"
)

// Config says what to check. Zero values take the documented defaults.
type Config struct {
	// ConnString is the target, a postgres:// URL or key=value string. It may
	// hold a password; nothing this package returns contains it.
	ConnString string
	// ApplicationName is set as application_name on the check's connection.
	// Default: the connection string's, or none.
	ApplicationName string
	// Pool is the pool configuration under test. Pool.ConnectTimeout bounds
	// the reachability check (default: the connection string's
	// connect_timeout, else [DefaultConnectTimeout]).
	Pool results.Pool
	// Replicas is the number of app instances sharing the server, each with
	// its own pool (planrun's pools, of Pool.Size + Pool.MaxOverflow
	// connections each). Default 1.
	Replicas int
	// ServiceProcesses is the number of pools of the service under test
	// (target.service.processes), each of Pool.Size + Pool.MaxOverflow
	// connections: the capacity check counts them besides planrun's pools.
	// Default 0: no service.
	ServiceProcesses int
	// PoolUnused says that planrun's own pools open no connection (every
	// operation of the mixes is HTTP, sent to the service): the capacity
	// check counts only the service's pools. Default false.
	PoolUnused bool
	// ServiceApplicationName is the application_name of a running service's
	// backends (one planrun does not start): those already connected are
	// part of what the service needs, so the capacity check does not count
	// them among the backends in use as well. Default "": none left out.
	ServiceApplicationName string
	// MaxThink is the longest think time of any scenario, used by the
	// consistency check. 0 = no think time.
	MaxThink time.Duration
	// Pings is the number of SELECT 1 round trips the rtt check times.
	// Default [DefaultPings].
	Pings int
}

// Result is the outcome of [Run].
type Result struct {
	// Checks in the order run. After a failed reachability check it holds
	// only that check.
	Checks []results.Check
	// ServerVersion is SHOW server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)".
	ServerVersion string
	// MaxConnections is the server's max_connections (0 when unknown).
	MaxConnections int
	// TLS is true when the check's connection is encrypted.
	TLS bool
	// RTT is the median SELECT 1 round trip (0 when not measured).
	RTT time.Duration
}

// Failed returns the first failed critical check, if any.
func (r Result) Failed() (results.Check, bool) {
	for _, c := range r.Checks {
		if c.Critical && c.Status == results.CheckFail {
			return c, true
		}
	}
	return results.Check{}, false
}

// Check returns the check with the given name, if it ran.
func (r Result) Check(name string) (results.Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return results.Check{}, false
}

// Run runs every check on one plain connection and returns their outcomes.
// It never returns a Go error: a connection that cannot be opened is a failed
// reachability check (its reason from [Explain]), after which no other check
// runs; a check whose query fails is reported as that check failing. The
// consistency check needs no server and runs whenever the target is reached.
func Run(ctx context.Context, cfg Config) Result {
	var res Result
	add := func(c results.Check) { res.Checks = append(res.Checks, c) }

	conn, reach := connect(ctx, cfg)
	add(reach)
	if conn == nil {
		return res
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	password := conn.Config().Password
	hide := func(c results.Check) results.Check {
		c.Reason = redact.Secret(c.Reason, password)
		return c
	}

	add(hide(checkServer(ctx, conn, &res)))
	add(hide(checkRTT(ctx, conn, cfg.Pings, &res)))
	add(hide(checkCapacity(ctx, conn, cfg, &res)))
	add(hide(checkTimeouts(ctx, conn, cfg.Pool)))
	add(Consistency(cfg.Pool, cfg.MaxThink))
	return res
}

// connect opens the check's connection; the check is the reachability outcome.
func connect(ctx context.Context, cfg Config) (*pgx.Conn, results.Check) {
	check := results.Check{Name: CheckReachability, Critical: true}
	connCfg, err := pgx.ParseConfig(cfg.ConnString)
	if err != nil {
		check.Status = results.CheckFail
		check.Reason = Explain(err, cfg.ConnString)
		return nil, check
	}
	switch {
	case cfg.Pool.ConnectTimeout > 0:
		connCfg.ConnectTimeout = cfg.Pool.ConnectTimeout
	case connCfg.ConnectTimeout <= 0:
		connCfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ApplicationName != "" {
		connCfg.RuntimeParams["application_name"] = cfg.ApplicationName
	}
	start := time.Now()
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	took := time.Since(start)
	if err != nil {
		check.Status = results.CheckFail
		check.Reason = Explain(err, cfg.ConnString)
		return nil, check
	}
	check.Status = results.CheckPass
	check.Reason = fmt.Sprintf("connected to %s as %q (database %q) in %s",
		hostPort(conn.Config().Host, conn.Config().Port), conn.Config().User, conn.Config().Database, roundDur(took))
	return conn, check
}

// checkServer reports the server version and whether TLS is in use. It fails
// (not critically) only when the version cannot be read.
func checkServer(ctx context.Context, conn *pgx.Conn, res *Result) results.Check {
	check := results.Check{Name: CheckServer}
	qctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	if err := conn.QueryRow(qctx, "SHOW server_version").Scan(&res.ServerVersion); err != nil {
		check.Status = results.CheckFail
		check.Reason = "cannot read server_version: " + redact.Text(err.Error())
		return check
	}
	res.TLS = isTLS(conn)
	tlsText := "TLS off"
	if res.TLS {
		tlsText = "TLS on"
		if st, ok := conn.PgConn().Conn().(interface{ ConnectionState() tls.ConnectionState }); ok {
			tlsText += " (" + tls.VersionName(st.ConnectionState().Version) + ")"
		}
	}
	check.Status = results.CheckPass
	check.Reason = fmt.Sprintf("PostgreSQL %s, %s", res.ServerVersion, tlsText)
	return check
}

// isTLS reports whether conn's transport is TLS, also when a dial hook
// wrapped it in something that still exposes the TLS state.
func isTLS(conn *pgx.Conn) bool {
	_, ok := conn.PgConn().Conn().(interface{ ConnectionState() tls.ConnectionState })
	return ok
}

// checkRTT times pings SELECT 1 round trips (default [DefaultPings]) and
// reports their median. It warns above [RTTWarn] and fails (not critically)
// when a round trip fails.
func checkRTT(ctx context.Context, conn *pgx.Conn, pings int, res *Result) results.Check {
	check := results.Check{Name: CheckRTT}
	if pings <= 0 {
		pings = DefaultPings
	}
	qctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	// One untimed round trip first, so that statement caching and the
	// first-packet costs do not count.
	if _, err := conn.Exec(qctx, "SELECT 1"); err != nil {
		check.Status = results.CheckFail
		check.Reason = "SELECT 1 failed: " + redact.Text(err.Error())
		return check
	}
	samples := make([]time.Duration, 0, pings)
	for range pings {
		start := time.Now()
		if _, err := conn.Exec(qctx, "SELECT 1"); err != nil {
			check.Status = results.CheckFail
			check.Reason = fmt.Sprintf("SELECT 1 failed after %d round trips: %s", len(samples), redact.Text(err.Error()))
			return check
		}
		samples = append(samples, time.Since(start))
	}
	res.RTT = median(samples)
	check.Reason = fmt.Sprintf("median %s over %d SELECT 1 round trips (min %s, max %s)",
		roundDur(res.RTT), len(samples), roundDur(samples[0]), roundDur(samples[len(samples)-1]))
	if res.RTT > RTTWarn {
		check.Status = results.CheckWarn
		check.Reason += fmt.Sprintf("; above %s: every statement pays it, so latencies measure the network as much as the pool", RTTWarn)
		return check
	}
	check.Status = results.CheckPass
	return check
}

// median sorts d in place and returns its median (the mean of the two middle
// values for an even count).
func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	n := len(d)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// capacityQuery reads every number the capacity check needs in one round
// trip. reserved_connections exists from PostgreSQL 16 (NULL before);
// connection limits are -1 when unlimited. Backends counted are client
// backends other than this one and, when $1 is not empty, other than those
// with application_name $1 (a running service's, counted last).
const capacityQuery = `
WITH others AS (
  SELECT usename, datname FROM pg_stat_activity
   WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
     AND ($1::text = '' OR application_name IS DISTINCT FROM $1::text))
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       coalesce(current_setting('reserved_connections', true), '0')::int,
       (SELECT count(*) FROM others)::int,
       (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user),
       (SELECT count(*) FROM others WHERE usename = current_user)::int,
       (SELECT datconnlimit FROM pg_database WHERE datname = current_database()),
       (SELECT count(*) FROM others WHERE datname = current_database())::int,
       current_user, current_database(),
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
           AND $1::text <> '' AND application_name = $1::text)::int`

// Capacity holds the numbers of the capacity check. The connections the run
// needs are those of planrun's pools, Replicas × (Size + MaxOverflow), plus
// those of the service under test, ServiceProcesses × (Size + MaxOverflow):
// the service's pools have the plan's pool settings.
type Capacity struct {
	// Replicas is the number of planrun's own pools; 0 when they open no
	// connection (every operation is HTTP).
	Replicas, Size, MaxOverflow int
	// ServiceProcesses is the number of the service's pools; 0 without a
	// service.
	ServiceProcesses int
	// MaxConnections, Reserved (superuser_reserved_connections plus
	// reserved_connections from PostgreSQL 16) and InUse (client backends
	// already connected, the check's own and a running service's excluded)
	// as read from the server.
	MaxConnections, Reserved, InUse int
	// RoleLimit and DatabaseLimit are the connection limits of the user and
	// the database (-1 = unlimited), with their backends in use (a running
	// service's excluded).
	RoleLimit, RoleInUse         int
	DatabaseLimit, DatabaseInUse int
	User, Database               string
	// ServiceOpen is the number of a running service's backends already
	// connected (Config.ServiceApplicationName): part of ServiceNeeded, so
	// not counted in InUse, RoleInUse and DatabaseInUse. Reported only.
	ServiceOpen int
}

// PoolNeeded is what planrun's own pools may open: Replicas × (Size + MaxOverflow).
func (c Capacity) PoolNeeded() int { return c.Replicas * (c.Size + c.MaxOverflow) }

// ServiceNeeded is what the service's pools may open: ServiceProcesses × (Size + MaxOverflow).
func (c Capacity) ServiceNeeded() int { return c.ServiceProcesses * (c.Size + c.MaxOverflow) }

// Needed is PoolNeeded + ServiceNeeded: every connection the run's pools may open.
func (c Capacity) Needed() int { return c.PoolNeeded() + c.ServiceNeeded() }

// Available is MaxConnections − Reserved − InUse. The reserved slots are
// left out even for a superuser: the application should not rely on them.
func (c Capacity) Available() int { return c.MaxConnections - c.Reserved - c.InUse }

// needs is the reason's first part: what the pools need, term by term, e.g.
// "needs 2 × (20 + 30) = 100 connections" without a service, "needs service
// 2 × (4 + 2) = 12 + planrun's pool 1 × (4 + 2) = 6 → 18 connections" with
// one and SQL operations.
func (c Capacity) needs() string {
	pool := fmt.Sprintf("%d × (%d + %d) = %d", c.Replicas, c.Size, c.MaxOverflow, c.PoolNeeded())
	if c.ServiceProcesses <= 0 {
		return "needs " + pool + " connections"
	}
	svc := fmt.Sprintf("service %d × (%d + %d) = %d", c.ServiceProcesses, c.Size, c.MaxOverflow, c.ServiceNeeded())
	var open string
	if c.ServiceOpen > 0 {
		open = fmt.Sprintf("%d of the service's already open", c.ServiceOpen)
	}
	if c.Replicas <= 0 {
		notes := "planrun's pool opens none: every operation is HTTP"
		if open != "" {
			notes = open + "; " + notes
		}
		return "needs " + svc + " connections (" + notes + ")"
	}
	if open != "" {
		svc += " (" + open + ")"
	}
	pools := "pool"
	if c.Replicas > 1 {
		pools = "pools"
	}
	return fmt.Sprintf("needs %s + planrun's %s %s → %d connections", svc, pools, pool, c.Needed())
}

// Judge returns the capacity check for these numbers: fail when the pools
// need more connections than the server, the role's or the database's
// connection limit allow; warn when they fit with less than
// [CapacityHeadroom] of the server's available slots to spare.
func (c Capacity) Judge() results.Check {
	check := results.Check{Name: CheckCapacity, Critical: true}
	need, avail := c.Needed(), c.Available()
	needs := c.needs()
	allows := fmt.Sprintf("server allows %d − %d reserved − %d in use = %d", c.MaxConnections, c.Reserved, c.InUse, avail)
	if need > avail {
		lower := "lower pool size/max_overflow or replicas"
		if c.ServiceProcesses > 0 {
			lower = "lower pool size/max_overflow, target.service.processes or replicas"
		}
		check.Status = results.CheckFail
		check.Reason = fmt.Sprintf("%s, %s: %d short; %s, or raise max_connections", needs, allows, need-avail, lower)
		return check
	}
	if c.RoleLimit >= 0 && need > c.RoleLimit-c.RoleInUse {
		check.Status = results.CheckFail
		check.Reason = fmt.Sprintf("%s, role %q allows %d (connection limit) − %d in use = %d", needs, c.User, c.RoleLimit, c.RoleInUse, c.RoleLimit-c.RoleInUse)
		return check
	}
	if c.DatabaseLimit >= 0 && need > c.DatabaseLimit-c.DatabaseInUse {
		check.Status = results.CheckFail
		check.Reason = fmt.Sprintf("%s, database %q allows %d (connection limit) − %d in use = %d", needs, c.Database, c.DatabaseLimit, c.DatabaseInUse, c.DatabaseLimit-c.DatabaseInUse)
		return check
	}
	spare := avail - need
	check.Reason = fmt.Sprintf("%s, %s (%d spare)", needs, allows, spare)
	if float64(spare) < CapacityHeadroom*float64(avail) {
		check.Status = results.CheckWarn
		check.Reason += fmt.Sprintf("; less than %.0f%% headroom: migrations, consoles and monitoring also need connections", CapacityHeadroom*100)
		return check
	}
	check.Status = results.CheckPass
	return check
}

// checkCapacity reads the server's numbers and judges them (see [Capacity.Judge]).
func checkCapacity(ctx context.Context, conn *pgx.Conn, cfg Config, res *Result) results.Check {
	c := cfg.Capacity()
	qctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	var reserved16 int
	err := conn.QueryRow(qctx, capacityQuery, cfg.ServiceApplicationName).Scan(&c.MaxConnections, &c.Reserved, &reserved16, &c.InUse,
		&c.RoleLimit, &c.RoleInUse, &c.DatabaseLimit, &c.DatabaseInUse, &c.User, &c.Database, &c.ServiceOpen)
	if err != nil {
		return results.Check{Name: CheckCapacity, Critical: true, Status: results.CheckFail,
			Reason: "cannot read the server's connection limits: " + redact.Text(err.Error())}
	}
	c.Reserved += reserved16
	res.MaxConnections = c.MaxConnections
	return c.Judge()
}

// Capacity is the run's side of the capacity check: its pools (Replicas
// default 1, none with PoolUnused and a service), without the server's
// numbers. Its Needed is every connection the run's pools may open.
func (cfg Config) Capacity() Capacity {
	c := Capacity{Replicas: max(cfg.Replicas, 1), Size: cfg.Pool.Size, MaxOverflow: cfg.Pool.MaxOverflow,
		ServiceProcesses: max(cfg.ServiceProcesses, 0)}
	if cfg.PoolUnused && c.ServiceProcesses > 0 {
		c.Replicas = 0
	}
	return c
}

// Timeouts holds the server-side timeouts that apply to the pool's
// connections (the session defaults after role and database settings and
// the connection string's options), in milliseconds as PostgreSQL keeps them.
type Timeouts struct {
	StatementTimeout                time.Duration
	IdleInTransactionSessionTimeout time.Duration
}

// Judge returns the timeouts check: it reports both values and warns when
// statement_timeout is off or not shorter than the pool timeout. The reason:
// when every connection is busy, waiters can only be served once a holder
// finishes; a statement_timeout below pool.timeout makes the server free a
// stuck connection before the waiters give up, so a runaway query shows up
// as its own error (SQLSTATE 57014) instead of as a wave of acquire
// timeouts. idle_in_transaction_session_timeout is reported only: it guards
// against code that leaks a connection inside an open transaction.
func (t Timeouts) Judge(pool results.Pool) results.Check {
	check := results.Check{Name: CheckTimeouts}
	check.Reason = fmt.Sprintf("statement_timeout %s, idle_in_transaction_session_timeout %s",
		offOr(t.StatementTimeout), offOr(t.IdleInTransactionSessionTimeout))
	switch {
	case pool.Timeout <= 0:
		check.Status = results.CheckPass
	case t.StatementTimeout == 0:
		check.Status = results.CheckWarn
		check.Reason += fmt.Sprintf("; with no statement_timeout a stuck statement holds its connection past pool.timeout (%s) and waiters time out instead", pool.Timeout)
	case t.StatementTimeout >= pool.Timeout:
		check.Status = results.CheckWarn
		check.Reason += fmt.Sprintf("; statement_timeout is not shorter than pool.timeout (%s): waiters time out before the server frees a stuck connection", pool.Timeout)
	default:
		check.Status = results.CheckPass
	}
	return check
}

// checkTimeouts reads the server-side timeouts and judges them (see [Timeouts.Judge]).
func checkTimeouts(ctx context.Context, conn *pgx.Conn, pool results.Pool) results.Check {
	qctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	// current_setting with a unit (e.g. "30s", "1min") is for people; the
	// setting column of pg_settings is a plain number of milliseconds.
	var st, idle int64
	err := conn.QueryRow(qctx, `SELECT
        (SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'),
        (SELECT setting::bigint FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout')`).Scan(&st, &idle)
	if err != nil {
		return results.Check{Name: CheckTimeouts, Status: results.CheckFail,
			Reason: "cannot read statement_timeout: " + redact.Text(err.Error())}
	}
	t := Timeouts{
		StatementTimeout:                time.Duration(st) * time.Millisecond,
		IdleInTransactionSessionTimeout: time.Duration(idle) * time.Millisecond,
	}
	return t.Judge(pool)
}

// Consistency checks that the pool settings agree with each other. It needs
// no server. Each rule is a warning (the check is never critical):
//
//   - size + max_overflow = 0: the pool can never hand out a connection.
//   - size = 0 with max_overflow > 0: every connection is overflow and is
//     closed on return, so every operation pays a new server connection.
//   - timeout < connect_timeout: an acquire can give up while the connection
//     it is waiting for is still being opened, so a slow server shows as
//     pool timeouts rather than connect errors.
//   - 0 < recycle < [MinRecycle]: connections are replaced so often that the
//     cost of opening them shows in acquire latency.
//   - 0 < recycle ≤ max think time: a user's connection is likely to expire
//     between two of its operations, so the run measures reconnects, not
//     pooling.
//   - pre_ping off and recycle 0: a connection dropped by the server, a
//     proxy or a firewall idle timeout is handed out broken and the
//     operation fails; production pools want one or the other.
//
// All rules that apply are listed in the reason, separated by "; ".
func Consistency(p results.Pool, maxThink time.Duration) results.Check {
	check := results.Check{Name: CheckConsistency}
	var warns []string
	if p.Size+p.MaxOverflow <= 0 {
		warns = append(warns, fmt.Sprintf("size + max_overflow = %d: the pool can never hand out a connection", p.Size+p.MaxOverflow))
	} else if p.Size <= 0 && p.MaxOverflow > 0 {
		warns = append(warns, fmt.Sprintf("size 0 with max_overflow %d: every connection is closed on return, so every operation opens a new one", p.MaxOverflow))
	}
	if p.Timeout > 0 && p.ConnectTimeout > 0 && p.Timeout < p.ConnectTimeout {
		warns = append(warns, fmt.Sprintf("timeout %s < connect_timeout %s: an acquire can time out while its connection is still being opened", p.Timeout, p.ConnectTimeout))
	}
	if p.Recycle > 0 && p.Recycle < MinRecycle {
		warns = append(warns, fmt.Sprintf("recycle %s < %s: connections are replaced so often that opening them shows in acquire latency", p.Recycle, MinRecycle))
	}
	if p.Recycle > 0 && maxThink > 0 && p.Recycle <= maxThink {
		warns = append(warns, fmt.Sprintf("recycle %s ≤ the longest think time %s: connections expire between a user's operations, so the run measures reconnects", p.Recycle, maxThink))
	}
	if !p.PrePing && p.Recycle == 0 {
		warns = append(warns, "pre_ping off and recycle 0: a connection dropped by the server, a proxy or a firewall is handed out broken")
	}
	if len(warns) > 0 {
		check.Status = results.CheckWarn
		check.Reason = strings.Join(warns, "; ")
		return check
	}
	check.Status = results.CheckPass
	check.Reason = fmt.Sprintf("size %d + max_overflow %d, timeout %s, connect_timeout %s, recycle %s, pre_ping %t",
		p.Size, p.MaxOverflow, p.Timeout, offOr(p.ConnectTimeout), offOr(p.Recycle), p.PrePing)
	return check
}

// offOr formats d, or "0 (off)" when d is 0.
func offOr(d time.Duration) string {
	if d <= 0 {
		return "0 (off)"
	}
	return d.String()
}

// roundDur rounds d for display: µs below 10 ms, 0.1 ms below 1 s, ms above.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d < 10*time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Millisecond)
	}
}

// hostPort formats a pgx host and port: host:port for TCP ([v6]:port for
// IPv6), the socket path for a Unix socket.
func hostPort(host string, port uint16) string {
	if strings.HasPrefix(host, "/") {
		return host + "/.s.PGSQL." + strconv.Itoa(int(port))
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}
