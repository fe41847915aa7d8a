package engine_test

// The SQLAlchemy parity check (issue 20): planrun's pool must send, per
// checkout, what the guide's stack sends: SQLAlchemy 1.4's async engine
// over asyncpg (testdata/sqlalchemy/checkout.py, run with the python3 that
// has them: `make deps` installs Debian's python3-sqlalchemy and
// python3-asyncpg). Both run on one throwaway server that logs every
// statement (log_statement = all); the test reads the server log and
// compares, checkout by checkout, the statements each sent. Then both run
// through a 20 ms emulated latency (engine/netproxy) and their hold times
// must agree within 10 %.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg"
	"github.com/planrun/planrun/engine/netproxy"
	"github.com/planrun/planrun/internal/pystack"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// parityLatency is the emulated latency of the hold-time comparison, per
// round trip.
const parityLatency = 20 * time.Millisecond

// sqlaPython returns a python3 that imports SQLAlchemy 1.4 and asyncpg
// (pystack.Find). Without one the test is skipped, except in CI (CI=true),
// where `make deps` has installed them and their absence is a failure.
func sqlaPython(t *testing.T) string {
	t.Helper()
	python, err := pystack.Find(pystack.SQLAlchemy, pystack.SQLAlchemyDebs, pystack.SQLAlchemyPips)
	if err != nil && os.Getenv("CI") != "" {
		t.Fatal(err)
	}
	if err != nil {
		t.Skip(err)
	}
	return python
}

// loggedServer starts a throwaway server of the test's own that logs every
// statement with "application_name|pid|" before it, and returns it with
// the path of its log.
func loggedServer(t *testing.T) (*localpg.Server, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := localpg.Start(ctx, localpg.Options{MaxConnections: 20, StartTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("start a server of the test's own: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop the server: %v", err)
		}
	})
	// localpg writes the server's output next to its data directory.
	logPath := filepath.Join(filepath.Dir(srv.DataDir()), "server.log")
	if _, err := os.Stat(logPath); err != nil {
		t.Fatalf("the server log: %v", err)
	}
	c, err := pgx.Connect(ctx, srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, s := range []string{
		"ALTER SYSTEM SET log_statement = 'all'",
		"ALTER SYSTEM SET log_line_prefix = '%a|%p|'",
		"SELECT pg_reload_conf()",
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for { // until a new session sees the reloaded settings
		nc, err := pgx.Connect(ctx, srv.DSN())
		if err != nil {
			t.Fatal(err)
		}
		var v string
		err = nc.QueryRow(ctx, "SHOW log_statement").Scan(&v)
		nc.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v == "all" {
			return srv, logPath
		}
		if ctx.Err() != nil {
			t.Fatal("log_statement = all never took effect")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logged is one statement the server logged.
type logged struct {
	app string
	pid string
	// text is "statement: SQL" (the simple protocol) or "execute: SQL" (a
	// prepared statement; its name left out), whitespace collapsed.
	text string
}

var (
	logLine     = regexp.MustCompile(`^([^|]*)\|(\d+)\|LOG:  (statement|execute [^:]*): (.*)$`)
	logContinue = regexp.MustCompile(`^\t`)
)

// readLog returns the statements of the server log at path, in order.
func readLog(t *testing.T, path string) []logged {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logged
	cur := -1 // the statement that continuation lines extend
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := logLine.FindStringSubmatch(line); m != nil {
			kind := "statement"
			if strings.HasPrefix(m[3], "execute") {
				kind = "execute"
			}
			out = append(out, logged{app: m[1], pid: m[2], text: kind + ": " + m[4]})
			cur = len(out) - 1
			continue
		}
		if cur >= 0 && logContinue.MatchString(line) {
			out[cur].text += " " + line
			continue
		}
		cur = -1
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		out[i].text = strings.Join(strings.Fields(out[i].text), " ")
	}
	return out
}

// statementsOf returns the statements app sent, failing unless one backend
// sent them all (one pool connection).
func statementsOf(t *testing.T, all []logged, app string) []string {
	t.Helper()
	var out []string
	pid := ""
	for _, l := range all {
		if l.app != app {
			continue
		}
		if pid != "" && l.pid != pid {
			t.Fatalf("%s: statements from backends %s and %s: want one connection", app, pid, l.pid)
		}
		pid = l.pid
		out = append(out, l.text)
	}
	if len(out) == 0 {
		t.Fatalf("the server logged no statement of %s", app)
	}
	return out
}

// sqlaRun is what one run of the reference printed.
type sqlaRun struct {
	SQLAlchemy string    `json:"sqlalchemy"`
	Asyncpg    string    `json:"asyncpg"`
	Holds      []float64 `json:"holds"`
}

// runSQLA runs the reference against the server at dsn (directly or
// through a proxy at via) with application_name app.
func runSQLA(t *testing.T, python, dsn, via, app string, checkouts int, markers bool, flags ...string) sqlaRun {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	markerDSN := (&url.URL{Scheme: "postgresql", User: u.User, Host: u.Host, Path: u.Path}).String()
	if via != "" {
		u.Host = via
	}
	sqlaURL := (&url.URL{Scheme: "postgresql+asyncpg", User: u.User, Host: u.Host, Path: u.Path}).String()
	args := []string{filepath.Join("testdata", "sqlalchemy", "checkout.py"),
		"--url", sqlaURL, "--app-name", app, "--checkouts", fmt.Sprint(checkouts), "--sql", paritySQL}
	if markers {
		args = append(args, "--marker-dsn", markerDSN)
	}
	args = append(args, flags...)
	cmd := exec.Command(python, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the SQLAlchemy reference %q: %v\n%s", flags, err, stderr.String())
	}
	var r sqlaRun
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("the SQLAlchemy reference printed %q: %v", out, err)
	}
	if len(r.Holds) != checkouts {
		t.Fatalf("the SQLAlchemy reference made %d checkouts, want %d", len(r.Holds), checkouts)
	}
	return r
}

// paritySQL is the statement both run once per checkout.
const paritySQL = "SELECT 41+1"

// runPlanrun runs a one-user plan on one pool connection against dsn for d
// (a duration as plans write it; warmup "" for none) and returns its
// scenario.
func runPlanrun(t *testing.T, dsn, app, pool, op, network, d, warmup string) *results.Scenario {
	t.Helper()
	if warmup != "" {
		warmup = ", warmup: " + warmup
	}
	src := fmt.Sprintf(`
version: 1
name: parity
target: {application_name: %s%s}
pool: {size: 1, max_overflow: 0, timeout: 10s, %s}
mixes:
  m:
    - %s
scenarios:
  - {name: s, users: 1, duration: %s%s}
`, app, network, pool, op, d, warmup)
	plan, err := schema.Parse(t.Name()+".yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	plan.Target.URL = dsn
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("plan does not compile:\n%v", err)
	}
	r, err := engine.Run(context.Background(), prog, engine.RunOptions{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	sc := &r.Scenarios[0]
	if sc.Ops == 0 || sc.Errors != 0 {
		t.Fatalf("planrun: %d ops, %d errors (%v)", sc.Ops, sc.Errors, sc.ErrorsBy)
	}
	return sc
}

// engineOnce are the queries of SQLAlchemy's dialect initialisation, sent
// once per engine (on its first connection), not per connection: planrun,
// whose pool stands for an application's engine already running, leaves
// them out.
var engineOnce = []string{
	"execute: select pg_catalog.version()",
	"execute: select current_schema()",
	"execute: show transaction isolation level",
	"execute: show standard_conforming_strings",
}

// withoutEngineOnce removes the dialect initialisation from the first
// checkout's statements, with the BEGIN … ROLLBACK around it when there is
// one; it fails when they are not there as one block.
func withoutEngineOnce(t *testing.T, seg []string) []string {
	t.Helper()
	i := slices.Index(seg, engineOnce[0])
	if i < 0 || i+len(engineOnce) > len(seg) || !slices.Equal(seg[i:i+len(engineOnce)], engineOnce) {
		t.Fatalf("SQLAlchemy's first checkout does not hold its dialect initialisation %q as one block:\n%s", engineOnce, strings.Join(seg, "\n"))
	}
	j := i + len(engineOnce)
	if i > 0 && strings.HasPrefix(seg[i-1], "statement: BEGIN") && j < len(seg) && seg[j] == "statement: ROLLBACK;" {
		i, j = i-1, j+1
	}
	return slices.Concat(seg[:i], seg[j:])
}

// sqlaCheckouts splits the statements of the reference's pool connection
// into its checkouts, at the markers it sent before each one.
func sqlaCheckouts(t *testing.T, all []logged, app string, n int) [][]string {
	t.Helper()
	var segs [][]string
	for _, l := range all {
		switch {
		case l.app == app+"-marker":
			segs = append(segs, nil)
		case l.app == app && len(segs) > 0:
			segs[len(segs)-1] = append(segs[len(segs)-1], l.text)
		case l.app == app:
			t.Fatalf("SQLAlchemy sent %q before its first checkout", l.text)
		}
	}
	if len(segs) != n {
		t.Fatalf("found %d checkouts of SQLAlchemy in the log, want %d", len(segs), n)
	}
	return segs
}

func TestSQLAlchemyParity(t *testing.T) {
	python := sqlaPython(t)
	srv, logPath := loggedServer(t)
	dsn := srv.DSN()

	// Statement sequences, per checkout. The first checkout of a connection
	// is not pre-pinged (SQLAlchemy pings only a connection it reuses); the
	// others must all be alike.
	const checkouts = 4
	cases := []struct {
		name     string
		sqlaArgs []string
		pool, op string
	}{
		{"connect, pre_ping", []string{"--pre-ping"}, "pre_ping: true", "{name: q, sql: " + paritySQL + "}"},
		{"connect", nil, "pre_ping: false", "{name: q, sql: " + paritySQL + "}"},
		{"begin, pre_ping", []string{"--pre-ping", "--begin"}, "pre_ping: true", "{name: q, transaction: [" + paritySQL + "]}"},
		{"autocommit, pre_ping", []string{"--pre-ping", "--isolation-level", "AUTOCOMMIT"}, "pre_ping: true, isolation_level: autocommit", "{name: q, sql: " + paritySQL + "}"},
	}
	apps := map[string][2]string{}
	for i, c := range cases {
		sqlaApp, planApp := fmt.Sprintf("sqla-%d", i), fmt.Sprintf("planrun-%d", i)
		apps[c.name] = [2]string{sqlaApp, planApp}
		r := runSQLA(t, python, dsn, "", sqlaApp, checkouts, true, c.sqlaArgs...)
		if i == 0 {
			t.Logf("reference: SQLAlchemy %s, asyncpg %s", r.SQLAlchemy, r.Asyncpg)
		}
		// 1 s: a second checkout after the first, slower one (it opens the
		// connection), also on a busy machine.
		runPlanrun(t, dsn, planApp, c.pool, c.op, "", "1s", "")
	}
	all := readLog(t, logPath)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sqlaApp, planApp := apps[c.name][0], apps[c.name][1]
			segs := sqlaCheckouts(t, all, sqlaApp, checkouts)
			first := withoutEngineOnce(t, segs[0])
			steady := segs[1]
			for k, s := range segs[2:] {
				if !slices.Equal(s, steady) {
					t.Fatalf("SQLAlchemy's checkouts 2 and %d differ:\n%s\n--\n%s", k+3, strings.Join(steady, "\n"), strings.Join(s, "\n"))
				}
			}
			got := statementsOf(t, all, planApp)
			// planrun: the first checkout, then some number of steady ones.
			if len(got) < len(first) || !slices.Equal(got[:len(first)], first) {
				t.Fatalf("planrun's first checkout on a new connection:\n%s\nSQLAlchemy's (without its once-per-engine dialect initialisation):\n%s",
					strings.Join(got[:min(len(got), len(first))], "\n"), strings.Join(first, "\n"))
			}
			rest := got[len(first):]
			if len(rest) == 0 || len(rest)%len(steady) != 0 {
				t.Fatalf("planrun sent %d statements after its first checkout, not a whole number of SQLAlchemy's %d-statement checkouts:\n%s\nSQLAlchemy's checkout:\n%s",
					len(rest), len(steady), strings.Join(rest, "\n"), strings.Join(steady, "\n"))
			}
			for k := 0; k < len(rest); k += len(steady) {
				if !slices.Equal(rest[k:k+len(steady)], steady) {
					t.Fatalf("planrun's checkout %d:\n%s\nSQLAlchemy's:\n%s", k/len(steady)+2,
						strings.Join(rest[k:k+len(steady)], "\n"), strings.Join(steady, "\n"))
				}
			}
			t.Logf("per checkout, both: %s (planrun: %d checkouts after the first; new connection: %s)",
				strings.Join(steady, " | "), len(rest)/len(steady), strings.Join(first, " | "))
		})
	}
	if t.Failed() {
		return
	}

	// Hold times through the emulated latency: the default checkout with a
	// pre-ping, four round trips (BEGIN, ping, statement, ROLLBACK), after
	// the first checkout of the connection (three: not pinged). The
	// assertion is on the shortest hold of each side: the round trips
	// themselves, which the scheduler of a busy machine can only lengthen
	// (each round trip wakes both processes up, and Python's event loop
	// wakes up late under CPU competition: its median moves by more than
	// 10 % there). Without latency, the same checkouts give each side's own
	// cost, which bounds how far apart the two may be beyond 10 %.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := netproxy.Start(netproxy.Config{Network: "tcp", Address: u.Host, Latency: parityLatency})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	const n = 12
	stats := func(holds []float64) (lo, p50 time.Duration) {
		h := slices.Clone(holds[1:]) // past the first checkout: the connect, and no pre-ping
		sort.Float64s(h)
		d := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
		return d(h[0]), d(h[len(h)/2])
	}
	_, sqla0 := stats(runSQLA(t, python, dsn, "", "sqla-hold-0", n, false, "--pre-ping").Holds)
	sqlaMin, sqla := stats(runSQLA(t, python, dsn, proxy.Addr(), "sqla-hold", n, false, "--pre-ping").Holds)
	const op = "{name: q, sql: " + paritySQL + "}"
	plan0 := runPlanrun(t, dsn, "planrun-hold-0", "pre_ping: true", op, "", "200ms", "").Hold.P50
	// The warm-up leaves out the first checkout (its connect takes 5 round
	// trips, the checkout 3).
	warm := 10 * parityLatency
	hold := runPlanrun(t, dsn, "planrun-hold", "pre_ping: true", op,
		fmt.Sprintf(", network: {latency: %s}", parityLatency), (warm + time.Duration(n)*4*parityLatency).String(), warm.String()).Hold
	plan, planMin := hold.P50, hold.Min
	slack := max(sqla0, plan0) // each side's own cost per checkout, measured just now
	t.Logf("hold through %s per round trip: SQLAlchemy min %s p50 %s, planrun min %s p50 %s; planrun/SQLAlchemy: min %.3f, p50 %.3f; without latency p50: %s, %s",
		parityLatency, sqlaMin, sqla, planMin, plan, float64(planMin)/float64(sqlaMin), float64(plan)/float64(sqla), sqla0, plan0)
	if diff := (planMin - sqlaMin).Abs(); diff > sqlaMin/10+slack {
		t.Errorf("shortest hold through %s: planrun %s, SQLAlchemy %s: %.1f%% apart, more than 10%% + %s (the larger of the two without latency)",
			parityLatency, planMin, sqlaMin, 100*(float64(planMin)/float64(sqlaMin)-1), slack)
	}
	if rt := 4 * parityLatency; sqlaMin < rt || planMin < rt {
		t.Errorf("shortest hold SQLAlchemy %s, planrun %s: want at least the 4 round trips' %s", sqlaMin, planMin, rt)
	}
}
