package engine

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/engine/netproxy"
	"github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/engine/servicewatch"
	"github.com/planrun/planrun/internal/httpop"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// serviceLogSuffix ends the name of the file, in RunOptions.OutDir, that a
// started service's stdout and stderr go to: <ReportName>.service.log.
const serviceLogSuffix = "service.log"

// serviceLogName is the started service's log file in RunOptions.OutDir:
// named after the run's reports (RunOptions.ReportName), so a second run
// into the same directory keeps the first's; service.log without a name.
func (e *runEnv) serviceLogName() string {
	if e.opts.ReportName == "" {
		return serviceLogSuffix
	}
	return e.opts.ReportName + "." + serviceLogSuffix
}

// startService makes target.service ready, after setup: a running one (a
// non-empty url) is only polled until ready; otherwise planrun starts a
// proxy in front of the target, always (it counts the service's
// connections; target.network's latency and the stall, latency and reset
// faults apply to them), and starts the service with the proxy's URL. The
// returned function stops the service and closes its proxy; the caller
// defers it before anything that must run after the service is gone (the
// teardown).
func (e *runEnv) startService(ctx context.Context, run *results.Run) (stop func(), f *Failure) {
	stop = func() {}
	s := e.prog.Target.Service
	if s == nil {
		return stop, nil
	}
	spec := s.Spec
	if spec.URL == "" {
		p, err := e.serviceProxy()
		if err != nil {
			return stop, &Failure{Stage: "service", Err: err}
		}
		e.svcProxy = p
		stop = func() { e.closeServiceProxy() }
		if spec.DatabaseURL, err = serviceDatabaseURL(e.dsn, p.Addr(), s.ApplicationName); err != nil {
			return stop, &Failure{Stage: "service", Err: err}
		}
		spec.LogPath = ""
		if e.opts.OutDir != "" {
			spec.LogPath = filepath.Join(e.opts.OutDir, e.serviceLogName())
		}
		e.logf("service: starting %s in %s with %s=%s (planrun's proxy, which counts its connections)",
			e.red.String(fmt.Sprint(spec.Start)), spec.Dir, spec.DatabaseEnv, e.red.String(redact.DSN(spec.DatabaseURL)))
	} else {
		e.logf("service: waiting for %s to be ready", e.red.String(spec.URL))
	}
	started := time.Now()
	p, err := service.Start(ctx, spec)
	if err != nil {
		run.Target.ServiceLog = spec.LogPath // a temp file's name is in the error
		hint := "run the service's start command by hand, with the same env, to see why; no load ran"
		if spec.URL != "" {
			hint = "check that the service at target.service.url is up and answers its ready path; no load ran"
		} else if m := service.MissingModule(err); m != "" {
			hint = missingModuleHint(e.red.String(spec.Start[0]), m)
		}
		return stop, &Failure{Stage: "service", Err: err, Hint: hint}
	}
	e.svc = p
	run.Target.ServiceLog = p.Log()
	if p.Log() != "" {
		e.logf("service: log %s", p.Log())
	}
	e.logf("service: ready at %s in %s", e.red.String(p.URL()), time.Since(started).Round(time.Millisecond))
	return func() {
		if err := p.Stop(); err != nil {
			e.logf("service: stop: %v", err)
		}
		e.svc = nil
		e.closeServiceProxy()
	}, nil
}

// missingModuleHint is the hint for a service whose Python lacks module
// (its log ends with "No module named ..."): the interpreter is argv0,
// target.service.start's first element.
func missingModuleHint(argv0, module string) string {
	return fmt.Sprintf("the service's Python (%s, the first element of target.service.start) lacks the module %s: "+
		"install the service's dependencies for that interpreter, or make start's first element one that has them "+
		`(e.g. start: ["${PYTHON:-python3}", ...] and PYTHON=/path/to/python3); no load ran`, argv0, module)
}

// closeServiceProxy closes the service's proxy, if any.
func (e *runEnv) closeServiceProxy() {
	if e.svcProxy == nil {
		return
	}
	if err := e.svcProxy.Close(); err != nil {
		e.logf("service: close the proxy: %v", err)
	}
	e.svcProxy = nil
}

// serviceProxy starts the proxy the service's database connections go
// through: on 127.0.0.1 over TCP (the service is another process), with
// target.network's delays when the plan has them.
func (e *runEnv) serviceProxy() (*netproxy.Proxy, error) {
	network, address, err := upstream(e.dsn)
	if err != nil {
		return nil, fmt.Errorf("proxy: %s", err)
	}
	if e.server != nil {
		network, address = "unix", e.server.Socket()
	}
	cfg := netproxy.Config{Network: network, Address: address, Seed: e.prog.Seed + 1, DialTimeout: e.prog.Pool.ConnectTimeout}
	if n := e.prog.Target.Network; n != nil {
		cfg.Latency, cfg.Jitter, cfg.Bandwidth = n.Latency, n.Jitter, n.Bandwidth
	}
	p, err := netproxy.Start(cfg)
	if err != nil {
		return nil, fmt.Errorf("start the proxy: %w", err)
	}
	return p, nil
}

// serviceDatabaseURL is the database URL handed to a service planrun
// starts: the target's, at the proxy's address, with the service's
// application_name. A target written as a URL keeps its other parameters
// (sslmode, options, …; a host or port given as a parameter is dropped);
// one written as key=value pairs becomes a URL with its user, password and
// database (and sslmode=disable when it has no TLS).
func serviceDatabaseURL(dsn, proxyAddr, appName string) (string, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("read the connection string: %w", err)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		u = &url.URL{Scheme: "postgres", Path: "/" + cfg.Database}
		if cfg.Password != "" {
			u.User = url.UserPassword(cfg.User, cfg.Password)
		} else {
			u.User = url.User(cfg.User)
		}
		if cfg.TLSConfig == nil {
			u.RawQuery = "sslmode=disable"
		}
	}
	u.Host = proxyAddr
	q := u.Query()
	q.Del("host")
	q.Del("port")
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// serviceCapacity is what the service's pools may hold together:
// processes × (size + max_overflow).
func (e *runEnv) serviceCapacity() int {
	return e.prog.Target.Service.Processes * e.prog.Pool.Capacity()
}

// usesPool says whether planrun's own pools open connections: whether any
// mix the program runs holds a SQL operation (an HTTP operation goes to the
// service; a pool nothing acquires from opens no connection).
func (p *Program) usesPool() bool {
	for _, m := range p.mixes() {
		for _, op := range m.Ops {
			if op.HTTP == nil {
				return true
			}
		}
	}
	return false
}

// watchService starts watching the service's backends on a connection of
// its own (nil when the plan has no service).
func (r *scenarioRun) watchService(ctx context.Context) (*servicewatch.Watcher, *pgx.Conn, error) {
	e := r.env
	s := e.prog.Target.Service
	if s == nil {
		return nil, nil, nil
	}
	connect := func(ctx context.Context) (*pgx.Conn, error) {
		return connectMonitor(ctx, e.dsn, e.prog.Pool.ConnectTimeout)
	}
	conn, err := connect(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("service watch: %s", e.explain(err))
	}
	cfg := servicewatch.Config{
		ApplicationName: s.ApplicationName,
		Capacity:        e.serviceCapacity(),
		LeakThreshold:   e.prog.Pool.LeakThreshold,
		Redactor:        e.red,
		Reconnect:       connect,
	}
	if p := e.svcProxy; p != nil {
		cfg.ProxyOpen = func() int { return p.ConnStats().Open }
	}
	w, err := servicewatch.Start(ctx, conn, cfg)
	if err != nil {
		_ = conn.Close(context.Background())
		return nil, nil, err
	}
	return w, conn, nil
}

// serviceURL is the base URL of the service's requests.
func (e *runEnv) serviceURL() string {
	if e.svc == nil {
		return ""
	}
	return e.svc.URL()
}

// proxies are the proxies the network faults act on: the pool's and the
// service's.
func (e *runEnv) proxies() []*netproxy.Proxy {
	var out []*netproxy.Proxy
	for _, p := range []*netproxy.Proxy{e.proxy, e.svcProxy} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// foundAfterNoWarmup is when a scenario without a warm-up checks that the
// service's backends were seen, once one was; when none was yet, the check
// waits for one until foundPatience (a service slow to open its first
// connection on a busy machine is not a service without backends), and at
// the scenario's end at the latest.
const (
	foundAfterNoWarmup = time.Second
	foundPatience      = 10 * time.Second
)

// serviceDrainTimeout bounds the drain check of the service's backends
// beyond its grace.
const serviceDrainTimeout = servicewatch.DefaultDrainGrace + servicewatch.DefaultSampleTimeout

// startServiceWatch prepares the scenario's side of the service: its HTTP
// client, the watch of its backends on a monitor connection of its own,
// and the proxy's counts at the start. The returned function releases them.
func (r *scenarioRun) startServiceWatch(ctx context.Context) (stop func(), err error) {
	e := r.env
	w, conn, err := r.watchService(ctx)
	if err != nil {
		return nil, err
	}
	r.watcher = w
	r.svc = &serviceClient{client: httpop.NewClient(r.sc.concurrency()), base: e.serviceURL(), red: e.red}
	if e.svcProxy != nil {
		r.connStart = e.svcProxy.ConnStats()
	}
	return func() {
		w.Stop()
		_ = conn.Close(context.Background())
		r.svc.client.CloseIdleConnections()
	}, nil
}

// foundDue says whether the time has come to check that the service's
// backends were seen: the end of the warm-up, or without one,
// foundAfterNoWarmup once a backend was seen (foundPatience when none was).
func (r *scenarioRun) foundDue(el time.Duration) bool {
	if r.watcher == nil || r.foundChecked {
		return false
	}
	if r.sc.Warmup > 0 {
		return el >= r.sc.Warmup
	}
	return el >= foundAfterNoWarmup && (r.watcher.Seen() || el >= foundPatience)
}

// checkFound calls the watcher's Found once (later calls, such as the one
// at the scenario's end, only repeat the answer) and reports whether the
// service's backends were seen.
func (r *scenarioRun) checkFound() bool {
	if r.watcher == nil {
		return true
	}
	if !r.foundChecked {
		r.foundChecked = true
		if err := r.watcher.Found(); err != nil {
			r.notFound = err
			r.env.logf("scenario %s: service: %v", r.sc.Name, err)
		}
	}
	return r.notFound == nil
}

// serviceSummary is the service as watched so far, with its connections at
// the proxy over the scenario (zero for a running service).
func (r *scenarioRun) serviceSummary() *results.Service {
	s := r.watcher.Summary()
	if p := r.env.svcProxy; p != nil {
		st := p.ConnStats().Minus(r.connStart)
		s.Connections = results.ServiceConnections{Opened: st.Opened, Closed: st.Closed, MaxOpen: st.Max()}
	}
	return &s
}

// serviceDrained makes the service's final check once the load drained
// (every backend still checked out is a leak) and records the service.
func (r *scenarioRun) serviceDrained(out *results.Scenario) {
	if r.watcher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), serviceDrainTimeout)
	defer cancel()
	if err := r.watcher.Drained(ctx, servicewatch.DefaultDrainGrace); err != nil {
		r.env.logf("scenario %s: service drain check not made: %v", r.sc.Name, err)
	}
	out.Service = r.serviceSummary()
	if m := out.Service.AtDrain.Mismatch(); m != "" {
		r.env.logf("scenario %s: service: %s", r.sc.Name, m)
	}
}
