package engine

import (
	"errors"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/engine/preflight"
	"github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/internal/httpop"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/internal/suggest"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// Options change how a plan is compiled.
type Options struct {
	// TimeScale multiplies every scenario duration (duration, ramp_up,
	// stages, warmup) for a quick rehearsal of a long plan. Think, hold, pool
	// timeouts and the leak threshold are left as written: they shape the
	// load itself, and a rehearsal must not report a leak that the plan as
	// written would not. Default 1.
	TimeScale float64
	// Scenarios selects the scenarios to run, by name, in plan order. Default: all.
	Scenarios []string
	// Segment, when its Count is above 1, compiles only the Index-th of
	// Count disjoint slices of the plan (--segment i/N; see segment.go).
	// Its StartAt, when set, is the wall-clock instant the first scenario
	// starts at. Default: the whole plan.
	Segment results.Segment
}

// Program is a compiled plan: everything the engine needs to run it, with
// no reference to the plan it came from.
type Program struct {
	Plan   results.PlanInfo
	Target Target
	// Pool is the pool configuration, defaults applied.
	Pool      results.Pool
	TimeScale float64
	// Seed is the seed of every random choice of the run (arrivals,
	// operation picks, think times): the plan's `seed`, or one drawn at
	// compile time. See seededRand.
	Seed int64
	// Replicas are the replicas this program runs, numbered from 1 across
	// the plan: 1..target.replicas, or a segment's share of them. Each is a
	// pool of its own.
	Replicas []int
	// Segment is the slice of the plan this program runs (nil: the whole plan).
	Segment *results.Segment
	// Partial is set when --scenario selected some of the plan's scenarios.
	Partial   *results.Partial
	setup     []statement
	teardown  []statement
	scenarios []*scenario
	// testArgTimeout overrides the time budget of one args evaluation (tests); 0: the default.
	testArgTimeout time.Duration
}

// Target is where a program runs.
type Target struct {
	// URL of the server; "" starts a throwaway local server.
	URL string
	// ApplicationName is set on every pool connection.
	ApplicationName string
	// Replicas is the number of application instances, each with its own
	// pool, across the whole plan (a segment runs Program.Replicas of them).
	Replicas int
	// Balance spreads an open model's arrivals over the replicas:
	// schema.BalanceRoundRobin or schema.BalanceRandom.
	Balance string
	// Network is the simulated network between the pool and the server
	// (nil: the pool connects directly).
	Network *results.Network
	// Service is the service under test (target.service; nil: none).
	Service *Service
}

// Service is target.service as compiled: the spec of the service to start
// or use (its DatabaseURL and LogPath are filled in by the run), and how
// to find its backends.
type Service struct {
	Spec service.Spec
	// ApplicationName finds the service's backends in pg_stat_activity;
	// the run puts it in the database URL it hands a service it starts.
	ApplicationName string
	// Processes is how many pools the service runs (default 1).
	Processes int
}

// compileService is target.service as compiled (nil: none).
func compileService(s *schema.Service) *Service {
	if s == nil {
		return nil
	}
	return &Service{
		Spec: service.Spec{URL: s.URL, Start: s.Start, Dir: s.Dir, Env: s.Env,
			DatabaseEnv: s.DatabaseEnv, Ready: s.Ready},
		ApplicationName: s.ApplicationName,
		Processes:       max(s.Processes, 1),
	}
}

// startsService reports whether planrun starts the plan's service itself
// (target.service without a url).
func startsService(plan *schema.Plan) bool {
	return plan.Target.Service != nil && plan.Target.Service.URL == ""
}

// verifiesHostName reports whether a connection string asks TLS to verify
// the server's host name (sslmode=verify-full); an unreadable one is
// reported where it is used.
func verifiesHostName(dsn string) bool {
	if dsn == "" {
		return false
	}
	cfg, err := pgconn.ParseConfig(dsn)
	return err == nil && cfg.TLSConfig != nil && !cfg.TLSConfig.InsecureSkipVerify
}

// Secrets lists what no output of the program's run may show: the
// target's password, the secret headers of its HTTP operations and
// target.service's secrets (its env's secret values, its URLs'
// passwords). Hand them to redact.New.
func (p *Program) Secrets() []string {
	out := redact.Passwords(p.Target.URL)
	if s := p.Target.Service; s != nil {
		out = append(out, s.Spec.Secrets()...)
	}
	for _, m := range p.mixes() {
		for _, op := range m.Ops {
			if op.HTTP == nil {
				continue
			}
			for _, v := range op.HTTP.Secrets() {
				out = append(out, v)
				// "Bearer <token>": the credential alone, too.
				if _, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
					out = append(out, strings.TrimSpace(cred))
				}
			}
		}
	}
	return out
}

// redactor masks the program's secrets (see Secrets).
func (p *Program) redactor() *redact.Redactor { return redact.New(p.Secrets()...) }

// scenario is a compiled scenario.
type scenario struct {
	Name  string
	Mix   *mix
	Shape ramp
	// Think is the pause between a user's operations, uniform in [Min, Max].
	Think schema.DurationRange
	// Warmup is the period at the start left out of the figures (0 = none).
	Warmup time.Duration
	// RecoveryAfter is the 1-based stage after which recovery is measured (0 = none).
	RecoveryAfter int
	// RecoveryThreshold is the acquire wait under which the pool counts as healthy again.
	RecoveryThreshold time.Duration
	// LeakThreshold: a checkout held longer than this is a leak.
	LeakThreshold time.Duration
	// Faults are the scheduled faults, in plan order.
	Faults []*fault
	// Open is set for an open-model scenario (a rate instead of users);
	// Shape then has the stages' durations and no users (StageEnd and
	// Duration serve as for a closed model).
	Open *openModel
	// TimeScaleNote says how much smaller (or larger) than the plan's the
	// queue an open model could build was under --time-scale (see
	// timeScaleNote); "" at scale 1 and for a closed model.
	TimeScaleNote string
	// index is the scenario's position in the plan, which with the
	// program's seed makes its random streams (see seededRand).
	index int
	seed  int64
}

// mix is a compiled weighted list of operations.
type mix struct {
	Name string
	Ops  []*operation
	// cum holds the cumulative weights normalised to 1, for picking by a uniform number.
	cum []float64
}

// httpOnly reports whether every operation of m is an HTTP request
// (results.Scenario.HTTPOnly): planrun's own pool then takes no load.
func (m *mix) httpOnly() bool {
	for _, op := range m.Ops {
		if op.HTTP == nil {
			return false
		}
	}
	return len(m.Ops) > 0
}

// operation is one compiled operation.
type operation struct {
	Index      int
	Name       string
	Weight     float64
	Statements []statement
	// Transaction wraps the statements in BEGIN ... COMMIT.
	Transaction bool
	// Hold keeps the connection after the statements: a duration drawn
	// uniformly in [Min, Max] per operation ([operation.hold]).
	Hold schema.DurationRange
	// HTTP is the request of an HTTP operation (nil: a SQL operation). Its
	// args are those of its one statement, whose SQL is empty.
	HTTP *httpop.Request
}

// hold draws how long op keeps its connection after its statements,
// uniformly in op.Hold as think is drawn; a fixed hold (Min == Max) draws
// nothing from r, so a seed's other draws stay as they were.
func (op *operation) hold(r *mrand.Rand) time.Duration {
	return uniform(op.Hold.Min, op.Hold.Max, r.Uint64N, r.Uint64)
}

// statement is one compiled SQL statement.
type statement struct {
	SQL  string
	Args []*argExpr
	// Pos is where the statement is written in the plan.
	Pos schema.Pos
}

// pick returns the operation for a uniform number u in [0, 1).
func (m *mix) pick(u float64) *operation {
	// Mixes are short: a linear scan beats a binary search and never allocates.
	for i, c := range m.cum {
		if u < c {
			return m.Ops[i]
		}
	}
	return m.Ops[len(m.Ops)-1]
}

// Compile turns a loaded plan into a Program. It compiles every args
// expression and reports every problem at once as schema.Errors.
func Compile(plan *schema.Plan, opts Options) (*Program, error) {
	if opts.TimeScale == 0 {
		opts.TimeScale = 1
	}
	var errs schema.Errors
	var scaleErrs schema.Errors
	if errors.As(plan.CheckTimeScale(opts.TimeScale), &scaleErrs) {
		errs = append(errs, scaleErrs...)
	}
	prog := &Program{
		Plan:      results.PlanInfo{Name: plan.Name, Description: plan.Description, File: plan.File, SHA256: plan.SHA256},
		Target:    Target{URL: plan.Target.URL, ApplicationName: plan.Target.ApplicationName, Replicas: max(plan.Target.Replicas, 1), Balance: plan.Target.Balance, Network: compileNetwork(plan.Target.Network), Service: compileService(plan.Target.Service)},
		Pool:      resultsPool(plan.Pool),
		TimeScale: opts.TimeScale,
		Seed:      planSeed(plan),
	}
	if startsService(plan) && verifiesHostName(plan.Target.URL) {
		errs.Add(plan.Target.URLPos, "a service planrun starts reaches the database through planrun's proxy on 127.0.0.1, a name the server's certificate does not hold: use sslmode=verify-ca (the certificate is still verified against its CA), or start the service yourself and give target.service.url",
			"target.url verifies the server's host name (sslmode=verify-full)")
	}
	prog.Replicas = make([]int, prog.Target.Replicas)
	for i := range prog.Replicas {
		prog.Replicas[i] = i + 1
	}
	prog.setup = compileStatements(plan.Setup, &errs)
	prog.teardown = compileStatements(plan.Teardown, &errs)

	mixes := map[string]*mix{}
	for _, name := range mixOrder(plan) {
		mixes[name] = compileMix(name, plan.Mixes[name], &errs)
	}

	selected := map[string]bool{}
	names := make([]string, len(plan.Scenarios))
	for i, sc := range plan.Scenarios {
		names[i] = sc.Name
	}
	for _, name := range opts.Scenarios {
		if plan.Scenario(name) == nil {
			hint := "scenarios in this plan: " + strings.Join(names, ", ")
			if s := suggest.Closest(name, names); s != "" {
				hint = "did you mean `" + s + "`? " + hint
			}
			errs.Add(schema.Pos{File: plan.File}, hint, "--scenario %q is not a scenario of plan %q", name, plan.Name)
		}
		selected[name] = true
	}
	for i := range plan.Scenarios {
		s := &plan.Scenarios[i]
		if len(selected) > 0 && !selected[s.Name] {
			continue
		}
		sc := compileScenario(plan, s, mixes, opts.TimeScale)
		sc.index, sc.seed = i, prog.Seed
		prog.scenarios = append(prog.scenarios, sc)
	}
	if len(selected) > 0 {
		prog.Partial = &results.Partial{Of: len(plan.Scenarios)}
		for _, sc := range prog.scenarios {
			prog.Partial.Ran = append(prog.Partial.Ran, sc.Name)
		}
	}
	if checkSegment(plan, opts.Segment, prog.Target.Replicas, &errs) {
		applySegment(prog, opts.Segment)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return prog, nil
}

func compileScenario(plan *schema.Plan, s *schema.Scenario, mixes map[string]*mix, timeScale float64) *scenario {
	var shape ramp
	if len(s.Stages) > 0 {
		for _, st := range s.Stages {
			shape = append(shape, stage{Users: st.Users, Ramp: st.Ramp.D(), Duration: st.Duration.D()})
		}
	} else {
		shape = ramp{{Users: s.Users, Ramp: s.RampUp.D(), Duration: s.Duration.D()}}
	}
	shape = shape.Scaled(timeScale)
	open := compileOpen(s, timeScale)
	note := ""
	if open != nil {
		shape = open.shape()
		note = timeScaleNote(s, timeScale)
	}
	threshold := s.RecoveryThreshold.D()
	if threshold == 0 {
		threshold = schema.DefaultRecoveryThreshold
	}
	return &scenario{
		Open:              open,
		TimeScaleNote:     note,
		Faults:            compileFaults(s.Faults, timeScale),
		Name:              s.Name,
		Mix:               mixes[s.Mix],
		Shape:             shape,
		Think:             s.Think,
		Warmup:            scale(s.Warmup.D(), timeScale),
		RecoveryAfter:     s.RecoveryAfter,
		RecoveryThreshold: threshold,
		LeakThreshold:     plan.LeakThreshold(s),
	}
}

// compileNetwork is target.network as results record it (nil: none).
func compileNetwork(n *schema.Network) *results.Network {
	if n == nil {
		return nil
	}
	return &results.Network{Latency: n.Latency.D(), Jitter: n.Jitter.D(), Bandwidth: int64(n.Bandwidth)}
}

// resultsPool is the pool configuration of a plan as results record it.
func resultsPool(p schema.Pool) results.Pool {
	return results.Pool{
		Size: p.Size, MaxOverflow: p.MaxOverflow, Timeout: p.Timeout.D(), Recycle: p.Recycle.D(),
		PrePing: p.PrePing, ConnectTimeout: p.ConnectTimeout.D(), LeakThreshold: p.LeakThreshold.D(),
		IsolationLevel: p.IsolationLevel, ResetOnReturn: p.ResetOnReturn, UseLIFO: p.UseLIFO,
	}
}

func compileMix(name string, ops schema.Mix, errs *schema.Errors) *mix {
	m := &mix{Name: name}
	total := 0.0
	for i, o := range ops {
		op := &operation{Index: i, Name: o.Name, Weight: o.Weight, Hold: o.Hold}
		switch {
		case o.HTTP != "":
			req, err := httpop.Compile(o.Template())
			if err != nil { // the schema checked it: only a bug gets here
				errs.Add(o.HTTPPos, "", "%s: %v", o.Name, err)
			}
			op.HTTP = req
			op.Statements = compileStatements([]schema.Statement{{SQLPos: o.HTTPPos, Args: o.Args}}, errs)
		case len(o.Transaction) > 0:
			op.Transaction = true
			op.Statements = compileStatements(o.Transaction, errs)
		default:
			op.Statements = compileStatements([]schema.Statement{{SQL: o.SQL, SQLPos: o.Pos, Args: o.Args}}, errs)
		}
		m.Ops = append(m.Ops, op)
		total += max(o.Weight, 0)
	}
	acc := 0.0
	for _, op := range m.Ops {
		acc += max(op.Weight, 0)
		m.cum = append(m.cum, acc/total)
	}
	return m
}

func compileStatements(in []schema.Statement, errs *schema.Errors) []statement {
	out := make([]statement, 0, len(in))
	for _, st := range in {
		c := statement{SQL: st.SQL, Pos: st.SQLPos}
		if c.Pos.Line == 0 {
			c.Pos = st.Pos
		}
		for _, a := range st.Args {
			p, err := compileArg(a)
			if err != nil {
				*errs = append(*errs, err)
				continue
			}
			c.Args = append(c.Args, p)
		}
		out = append(out, c)
	}
	return out
}

func mixOrder(plan *schema.Plan) []string {
	if len(plan.MixOrder) == len(plan.Mixes) {
		return plan.MixOrder
	}
	names := make([]string, 0, len(plan.Mixes))
	for n := range plan.Mixes {
		names = append(names, n)
	}
	return names
}

// mixes lists the mixes the program's scenarios run, each once, in
// scenario order.
func (p *Program) mixes() []*mix {
	var out []*mix
	for _, sc := range p.scenarios {
		if sc.Mix != nil && !slices.Contains(out, sc.Mix) {
			out = append(out, sc.Mix)
		}
	}
	return out
}

// mixStatements lists every statement of the mixes the program's scenarios
// run, each mix once, for the statements preflight check.
func (p *Program) mixStatements() []preflight.Statement {
	var out []preflight.Statement
	for _, m := range p.mixes() {
		for _, op := range m.Ops {
			if op.HTTP != nil {
				continue // sent to the service, not prepared on the server
			}
			for i, st := range op.Statements {
				ps := preflight.Statement{Mix: m.Name, Operation: op.Name, SQL: st.SQL, Args: len(st.Args), Pos: st.Pos}
				if op.Transaction {
					ps.Index = i + 1
				}
				out = append(out, ps)
			}
		}
	}
	return out
}

// setupSQL lists the SQL of the setup statements, in order, for the
// statements preflight check.
func (p *Program) setupSQL() []string {
	out := make([]string, len(p.setup))
	for i, st := range p.setup {
		out[i] = st.SQL
	}
	return out
}

// ScenarioNames lists the scenarios the program runs, in order.
func (p *Program) ScenarioNames() []string {
	names := make([]string, len(p.scenarios))
	for i, sc := range p.scenarios {
		names[i] = sc.Name
	}
	return names
}

// Duration of the whole program's scenarios.
func (p *Program) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.scenarios {
		d += s.Shape.Duration()
	}
	return d
}
