// Package watch holds a deployed service's pool to its plan, with no load:
// `planrun watch PLAN --for 48h` samples the service's backends on the
// plan's server (package engine/servicewatch: pg_stat_activity by
// application_name, or every client backend of the database when the plan
// names no service) and records what it saw as a run with one scenario,
// "watch" (results.Scenario.Watch), whose figures are the service's:
// assertions judge it, reports render it, and the live stream serves the
// same planrun_service_* metrics as a run, so `planrun alerts --source
// watch` rules and the Grafana dashboard work on it (docs/watch.md).
//
// The package reads the plan (schema) and writes results; it never imports
// the engine, only its pure helpers: the watcher (engine/servicewatch) and
// the bounded series (engine/measure).
package watch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/alerts"
	"github.com/planrun/planrun/engine/measure"
	"github.com/planrun/planrun/engine/servicewatch"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// Defaults.
const (
	// DefaultInterval is the time between two samples when
	// Config.Interval is 0.
	DefaultInterval = time.Second
	// DefaultReportEvery is the time between two interim reports when
	// Config.ReportEvery is 0.
	DefaultReportEvery = time.Hour
	// DefaultRecent is the rolling window judged beside the whole watch
	// when Config.Recent is 0.
	DefaultRecent = time.Hour
	// ScenarioName names the watch's scenario of the whole watch.
	ScenarioName = "watch"
	// MonitorApplicationName is the application_name of the watch's own
	// connection (never counted as the service's).
	MonitorApplicationName = "planrun-watch"
	// liveEvery is how often the live stream gets a snapshot (at least
	// one per sample when the interval is longer): the run's pace.
	liveEvery = time.Second
)

// ErrNoURL is the error of a plan without target.url: a watch needs a
// server to watch (there is no embedded one).
var ErrNoURL = errors.New("planrun watch needs target.url: the server to watch")

// Config says what to watch and for how long. Only Plan is required.
type Config struct {
	// Plan is the plan whose target is watched: target.url (after ${VAR}
	// expansion), target.service.application_name (none: every client
	// backend of the database), the capacity replicas × processes ×
	// (pool.size + pool.max_overflow) and the leak threshold
	// (pool.leak_threshold, else pool.timeout), as planrun alerts reads
	// them ([alerts.LimitsOf]).
	Plan *schema.Plan
	// For is how long to watch; 0: until ctx ends.
	For time.Duration
	// Interval between samples; default [DefaultInterval] (1 s).
	Interval time.Duration
	// ReportEvery is the time between two calls of Interim; default
	// [DefaultReportEvery] (1 h).
	ReportEvery time.Duration
	// Recent is the span of the rolling window judged beside the whole
	// watch: once the watch has run longer than it, the record has a
	// second scenario, "last <span>", with the figures of its last span
	// (a recent degradation that the whole watch's p95 would dilute);
	// default [DefaultRecent] (1 h); negative: none.
	Recent time.Duration
	// Interim, when set, is called every ReportEvery with the record so
	// far (Status completed, StatusReason saying it is interim), on the
	// watch's goroutine; the record is the caller's.
	Interim func(*results.Run)
	// Live are the live stream's sinks: each gets a snapshot of the watch
	// every second (or every sample, when the interval is longer), and a
	// final one.
	Live []live.Sink
	// Version is planrun's, recorded in the run.
	Version string
	// Logf, when set, says what the watch does (the URL redacted).
	Logf func(format string, args ...any)
}

// Run watches cfg.Plan's target until cfg.For has passed or ctx ends, and
// returns the record: Status completed, or interrupted (with the cause of
// ctx) when ctx ended first. Without target.url it returns ErrNoURL; when
// the server cannot be reached at the start, or its connection limits
// cannot be read, an error saying why (redacted), and no record.
func Run(ctx context.Context, cfg Config) (*results.Run, error) {
	p := cfg.Plan
	if p.Target.URL == "" {
		return nil, ErrNoURL
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = DefaultReportEvery
	}
	switch {
	case cfg.Recent == 0:
		cfg.Recent = DefaultRecent
	case cfg.Recent < 0:
		cfg.Recent = 0
	}
	red := redact.New(redact.Passwords(p.Target.URL)...)
	logf := func(format string, args ...any) {
		if cfg.Logf != nil {
			cfg.Logf("%s", red.String(fmt.Sprintf(format, args...)))
		}
	}
	connect := func(ctx context.Context) (*pgx.Conn, error) { return connectMonitor(ctx, p) }
	conn, err := connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %s", redact.DSN(p.Target.URL), red.String(err.Error()))
	}
	defer conn.Close(context.Background())
	var serverVersion string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&serverVersion); err != nil {
		return nil, fmt.Errorf("read the server's version: %s", red.String(err.Error()))
	}

	limits := alerts.LimitsOf(p)
	app := ""
	if s := p.Target.Service; s != nil {
		app = s.ApplicationName
	}
	w := &watch{cfg: cfg, series: measure.NewSeries(max(cfg.Interval, results.MinSeriesStep))}
	w.run = &results.Run{
		SchemaVersion:  results.SchemaVersion,
		PlanrunVersion: cfg.Version,
		Plan:           results.PlanInfo{Name: p.Name, Description: p.Description, File: p.File, SHA256: p.SHA256},
		Target: results.Target{URL: redact.DSN(p.Target.URL), ServerVersion: serverVersion, ApplicationName: MonitorApplicationName,
			Replicas: max(p.Target.Replicas, 1)},
		Pool: results.Pool{Size: p.Pool.Size, MaxOverflow: p.Pool.MaxOverflow, Timeout: p.Pool.Timeout.D(), Recycle: p.Pool.Recycle.D(),
			PrePing: p.Pool.PrePing, ConnectTimeout: p.Pool.ConnectTimeout.D(), LeakThreshold: p.Pool.LeakThreshold.D(),
			IsolationLevel: p.Pool.IsolationLevel, ResetOnReturn: p.Pool.ResetOnReturn, UseLIFO: p.Pool.UseLIFO},
		TimeScale: 1,
	}
	w.start = time.Now()
	w.run.StartedAt = w.start
	watcher, err := servicewatch.Start(ctx, conn, servicewatch.Config{
		ApplicationName: app,
		Capacity:        limits.Capacity,
		Interval:        cfg.Interval,
		LeakThreshold:   limits.IdleInTransaction,
		Redactor:        red,
		Reconnect:       connect,
		OnSample:        w.sample,
		OnMiss:          w.miss,
		Recent:          cfg.Recent,
	})
	if err != nil {
		return nil, err
	}
	w.watcher = watcher
	w.run.Target.MaxConnections = watcher.MaxConnections()
	whose := "every client backend of the database"
	if app != "" {
		whose = fmt.Sprintf("the backends of application_name %q", app)
	}
	until := "until stopped"
	if cfg.For > 0 {
		until = "for " + humanize.Duration(cfg.For)
	}
	logf("watch: %s on %s, every %s %s; capacity %d, a leak is idle in transaction past %s",
		whose, w.run.Target.URL, humanize.Duration(cfg.Interval), until, limits.Capacity, humanize.Duration(limits.IdleInTransaction))

	status, reason := w.loop(ctx)
	watcher.Stop()
	out := w.record(status, reason)
	w.publish(out, true)
	return out, nil
}

// connectMonitor opens the watch's own connection to the plan's server,
// named MonitorApplicationName, within pool.connect_timeout.
func connectMonitor(ctx context.Context, p *schema.Plan) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(p.Target.URL)
	if err != nil {
		if msg, ok := redact.ConfigError(err); ok {
			return nil, errors.New(msg)
		}
		return nil, errors.New(redact.Text(err.Error()))
	}
	cfg.RuntimeParams["application_name"] = MonitorApplicationName
	timeout := p.Pool.ConnectTimeout.D()
	if timeout <= 0 {
		timeout = schema.DefaultConnectTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return pgx.ConnectConfig(cctx, cfg)
}

// watch is one watch under way.
type watch struct {
	cfg     Config
	start   time.Time // monotonic: the series' offsets and Elapsed
	watcher *servicewatch.Watcher
	run     *results.Run // the header; scenarios are added by record

	mu     sync.Mutex
	series *measure.Series
	step   int64         // the index of the step pending
	npend  int           // samples and misses in pending
	pend   results.Point // the step's samples combined
	last   results.Point // the latest step's point, for the live stream
}

// sample adds a sample to the series (the watcher's goroutine).
func (w *watch) sample(s servicewatch.Sample) {
	w.add(results.Point{InUse: s.InUse, Idle: s.Idle, Total: s.Backends})
}

// miss marks a missed sample in the series: a gap.
func (w *watch) miss(string) { w.add(results.Point{Missed: 1}) }

// add combines p into the step it falls in (steps of the series' base
// interval from the start, on the monotonic clock) and hands the previous
// step to the series once a later one begins.
func (w *watch) add(p results.Point) {
	el := time.Since(w.start)
	p.T = el
	w.mu.Lock()
	defer w.mu.Unlock()
	base := max(w.cfg.Interval, results.MinSeriesStep)
	step := int64(el / base)
	if w.npend > 0 && step != w.step {
		w.pend.T = time.Duration(w.step+1) * base
		w.series.Add(w.pend)
		w.last, w.npend = w.pend, 0
	}
	if w.npend == 0 {
		w.pend, w.step = p, step
	} else {
		w.pend = results.CombinePoints(w.pend, p, results.Consecutive)
	}
	w.npend++
}

// loop waits for the end, feeding the live stream and the interim reports.
func (w *watch) loop(ctx context.Context) (results.Status, string) {
	var end <-chan time.Time
	if w.cfg.For > 0 {
		t := time.NewTimer(w.cfg.For)
		defer t.Stop()
		end = t.C
	}
	tick := time.NewTicker(max(liveEvery, w.cfg.Interval))
	defer tick.Stop()
	report := time.NewTicker(w.cfg.ReportEvery)
	defer report.Stop()
	for {
		select {
		case <-end:
			return results.StatusCompleted, ""
		case <-ctx.Done():
			why := "stopped"
			if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
				why = c.Error()
			}
			return results.StatusInterrupted, fmt.Sprintf("%s: the watch was stopped after %s", why, humanize.Duration(time.Since(w.start)))
		case <-tick.C:
			w.publish(w.record(results.StatusCompleted, ""), false)
		case <-report.C:
			if w.cfg.Interim != nil {
				w.cfg.Interim(w.record(results.StatusCompleted,
					fmt.Sprintf("interim report: the watch has run %s so far", humanize.Duration(time.Since(w.start)))))
			}
		}
	}
}

// record is the watch's record so far, the series' partial last step
// included.
func (w *watch) record(status results.Status, reason string) *results.Run {
	el := time.Since(w.start)
	svc := w.watcher.Summary() // Last is for the live stream (no report shows it)
	w.mu.Lock()
	points := w.series.Points()
	if w.npend > 0 {
		pend := w.pend
		pend.T = min(time.Duration(w.step+1)*max(w.cfg.Interval, results.MinSeriesStep), el)
		points = append(points, pend)
	}
	step := w.series.Step()
	w.mu.Unlock()
	for len(points) > results.MaxSeriesPoints { // the steps pending, past the bound: one wider last point
		n := len(points)
		points[n-2] = results.CombinePoints(points[n-2], points[n-1], results.Consecutive)
		points = points[:n-1]
	}
	out := *w.run
	out.Status, out.StatusReason = status, reason
	out.FinishedAt = w.start.Add(el)
	out.Scenarios = []results.Scenario{{
		Name:        ScenarioName,
		Status:      status,
		StartedAt:   w.start,
		Planned:     w.cfg.For,
		Elapsed:     el,
		Watch:       true,
		SuccessRate: 1,
		ErrorsBy:    map[string]int64{},
		Service:     &svc,
		Series:      points,
		SeriesStep:  step,
	}}
	if recent, ok := w.watcher.Recent(); ok && el > w.cfg.Recent {
		out.Scenarios = append(out.Scenarios, results.Scenario{
			Name:        RecentName(w.cfg.Recent),
			Status:      status,
			StartedAt:   out.FinishedAt.Add(-w.cfg.Recent),
			Planned:     w.cfg.Recent,
			Elapsed:     w.cfg.Recent,
			Watch:       true,
			SuccessRate: 1,
			ErrorsBy:    map[string]int64{},
			Service:     &recent,
		})
	}
	return &out
}

// RecentName names the scenario of the rolling window of span d: "last
// 1h", "last 30m", "last 90s".
func RecentName(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("last %dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("last %dm", d/time.Minute)
	default:
		return "last " + d.String()
	}
}

// publish hands the record's scenario to the live sinks.
func (w *watch) publish(run *results.Run, final bool) {
	if len(w.cfg.Live) == 0 {
		return
	}
	w.mu.Lock()
	last := w.last
	w.mu.Unlock()
	s := &live.Snapshot{Run: run, Scenario: &run.Scenarios[0], Point: last, Index: 1, Count: 1, Final: final}
	for _, sink := range w.cfg.Live {
		if sink != nil {
			sink.Live(s)
		}
	}
}
