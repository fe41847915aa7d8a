package preflight_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/preflight"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

func TestFirstKeyword(t *testing.T) {
	cases := []struct{ name, sql, want string }{
		{"plain", "select 1", "SELECT"},
		{"leading space", "\n\t  Insert into t values (1)", "INSERT"},
		{"line comment", "-- read one\nSELECT 1", "SELECT"},
		{"block comment", "/* hint */ UPDATE t SET a = 1", "UPDATE"},
		{"parenthesis", "(SELECT 1) UNION (SELECT 2)", "SELECT"},
		{"keyword then punctuation", "SET(x)", "SET"},
		{"only a comment", "-- nothing", ""},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := preflight.FirstKeyword(c.sql); got != c.want {
				t.Errorf("FirstKeyword(%q) = %q, want %q", c.sql, got, c.want)
			}
		})
	}
}

// tableSeq makes table names unique per test, so packages sharing a server never collide.
var tableSeq atomic.Int64

func uniqueTable(t *testing.T, prefix string) string {
	t.Helper()
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), tableSeq.Add(1))
}

// exec runs sql on a connection of its own.
func exec(t *testing.T, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func tableExists(t *testing.T, name string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func st(op, sql string, args int) preflight.Statement {
	return preflight.Statement{Mix: "m", Operation: op, SQL: sql, Args: args, Pos: schema.Pos{File: "plan.yaml", Line: 7, Col: 12}}
}

func tx(op string, sts ...preflight.Statement) []preflight.Statement {
	for i := range sts {
		sts[i].Operation = op
		sts[i].Index = i + 1
		sts[i].Pos.Line += i
	}
	return sts
}

func checkStatements(t *testing.T, cfg preflight.StatementsConfig) preflight.StatementsResult {
	t.Helper()
	cfg.ConnString = testDSN(t)
	cfg.ApplicationName = "planrun-preflight-test"
	res := preflight.Statements(context.Background(), cfg)
	t.Logf("%s %s: %s", res.Check.Name, res.Check.Status, res.Check.Reason)
	if err := res.Err(); err != nil {
		t.Logf("Err():\n%v", err)
	}
	return res
}

// TestStatements prepares statements on the test server, one case per kind
// of problem and per kind of statement that must not be a false failure.
func TestStatements(t *testing.T) {
	table := uniqueTable(t, "preflight_st")
	exec(t, fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY, balance int)", table))
	t.Cleanup(func() { exec(t, "DROP TABLE IF EXISTS "+table) })

	cases := []struct {
		name       string
		sts        []preflight.Statement
		pending    bool
		setup      []string // the plan's setup, when pending
		wantStatus results.CheckStatus
		// want are substrings of the reason; for a failure also of Err().
		want []string
		// wantProblems is the number of statements reported.
		wantProblems int
	}{
		{name: "good statements pass",
			sts: []preflight.Statement{
				st("read", "SELECT balance FROM "+table+" WHERE id = $1", 1),
				st("write", "UPDATE "+table+" SET balance = balance + $2 WHERE id = $1", 2),
				st("sleep", "SELECT pg_sleep($1)", 1),
				st("plain", "SELECT 1", 0),
			},
			wantStatus: results.CheckPass, want: []string{"4 statements of 1 mix prepared"}},
		{name: "misspelt table",
			sts:        []preflight.Statement{st("read", "SELECT balance FROM accounts_misspelt WHERE id = $1", 1)},
			wantStatus: results.CheckFail, wantProblems: 1,
			want: []string{`mix "m" operation "read" (plan.yaml:7:12)`, `relation "accounts_misspelt" does not exist`, "SQLSTATE 42P01", "hint: the plan has no setup"}},
		{name: "misspelt column",
			sts:        []preflight.Statement{st("read", "SELECT balanse FROM "+table, 0)},
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{`column "balanse" does not exist`, "SQLSTATE 42703"}},
		{name: "syntax error",
			sts:        []preflight.Statement{st("read", "SELEC 1", 0)},
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{`syntax error at or near "SELEC"`, "SQLSTATE 42601"}},
		{name: "$2 with one arg",
			sts:        []preflight.Statement{st("add", "SELECT $1::int + $2::int", 1)},
			wantStatus: results.CheckFail, wantProblems: 1,
			want: []string{"the SQL has 2 parameters but the operation passes 1 arg", "add the missing values to `args`"}},
		{name: "$2 alone with one arg",
			sts:        []preflight.Statement{st("add", "SELECT $2::int", 1)},
			wantStatus: results.CheckFail, wantProblems: 1,
			want: []string{"could not determine data type of parameter $1", "SQLSTATE 42P18", "should use $1..$1"}},
		{name: "args the SQL does not use",
			sts:        []preflight.Statement{st("one", "SELECT 1", 2)},
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{"the SQL has 0 parameters but the operation passes 2 args"}},
		{name: "parameter without args",
			sts:        []preflight.Statement{st("one", "SELECT $1::int", 0)},
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{"the SQL has 1 parameter but the operation passes 0 args"}},
		{name: "every failing statement is reported",
			sts: append([]preflight.Statement{
				st("good", "SELECT 1", 0),
				st("bad_table", "SELECT * FROM nope_table", 0),
				st("bad_args", "SELECT $1::int", 2),
			}, tx("bad_tx",
				st("", "UPDATE "+table+" SET balance = 0 WHERE id = $1", 1),
				st("", "INSERT INTO nope_ledger VALUES ($1)", 1),
			)...),
			wantStatus: results.CheckFail, wantProblems: 3,
			want: []string{"3 of 5 statements of 1 mix do not prepare", `operation "bad_table"`, `operation "bad_args"`,
				`operation "bad_tx" statement 2 (plan.yaml:8:12)`, `relation "nope_ledger" does not exist`}},
		{name: "utility statements are parsed, not failed",
			sts: []preflight.Statement{
				st("set", "SET statement_timeout = '5s'", 0),
				st("lock", "LOCK TABLE not_created_yet IN SHARE MODE", 0),
				st("vacuum", "VACUUM not_created_yet", 0),
				st("create", "CREATE TABLE IF NOT EXISTS not_created_yet (id int)", 0),
				st("show", "SHOW work_mem", 0),
			},
			wantStatus: results.CheckPass,
			want:       []string{"5 statements of 1 mix prepared", "5 utility statements (SET, LOCK, VACUUM, CREATE, SHOW) only parsed"}},
		{name: "a utility statement with a syntax error fails",
			sts:        []preflight.Statement{st("set", "SET statement_timeout = $1", 1)},
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{"SQLSTATE 42601"}},
		{name: "transaction with BEGIN-like and SET LOCAL statements",
			sts: tx("transfer",
				st("", "SET LOCAL lock_timeout = '1s'", 0),
				st("", "UPDATE "+table+" SET balance = balance - $2 WHERE id = $1", 2),
				st("", "SAVEPOINT s", 0),
				st("", "UPDATE "+table+" SET balance = balance + $2 WHERE id = $1", 2),
			),
			wantStatus: results.CheckPass, want: []string{"4 statements of 1 mix prepared", "2 utility statements (SET, SAVEPOINT) only parsed"}},
		{name: "a statement using what an earlier one creates is not failed",
			sts: tx("temp",
				st("", "CREATE TEMP TABLE scratch (id int) ON COMMIT DROP", 0),
				st("", "INSERT INTO scratch VALUES ($1)", 1),
			),
			wantStatus: results.CheckPass,
			want:       []string{"1 statement of 1 mix prepared", "1 not checked", `statement 2 (plan.yaml:8:12) names what statement 1 (CREATE) of its transaction may create`, `relation "scratch" does not exist`}},
		{name: "a statement after SET search_path is not failed",
			sts: tx("elsewhere",
				st("", "SET LOCAL search_path = app_schema", 0),
				st("", "SELECT * FROM app_table", 0),
			),
			wantStatus: results.CheckPass,
			want:       []string{"1 not checked", "names what statement 1 (SET) of its transaction may create or change"}},
		{name: "SET SCHEMA is SET search_path",
			sts: tx("elsewhere",
				st("", "set local schema 'app_schema'", 0),
				st("", "SELECT * FROM app_table", 0),
			),
			wantStatus: results.CheckPass, want: []string{"1 not checked"}},
		{name: "a statement after SET lock_timeout is failed",
			sts: tx("transfer",
				st("", "SET LOCAL lock_timeout = '1s'", 0),
				st("", "SELECT * FROM app_table", 0),
			),
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{`operation "transfer" statement 2`, "SQLSTATE 42P01"}},
		{name: "but a syntax error after it fails",
			sts: tx("temp",
				st("", "SET LOCAL search_path = elsewhere", 0),
				st("", "INSERT INTO scratch VALUES ($1", 1),
			),
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{"SQLSTATE 42601"}},
		{name: "several commands without args run with the simple protocol",
			sts:        []preflight.Statement{st("two", "SELECT 1; SELECT 2", 0)},
			wantStatus: results.CheckPass, want: []string{"1 not checked", "several commands in one string"}},
		{name: "several commands with args cannot run",
			sts:        []preflight.Statement{st("two", "SELECT $1::int; SELECT 2", 1)},
			wantStatus: results.CheckFail, wantProblems: 1, want: []string{"cannot insert multiple commands", "SQLSTATE 42601"}},
		{name: "setup pending: a missing table warns",
			sts:     []preflight.Statement{st("read", "SELECT * FROM made_by_setup", 0)},
			pending: true, wantStatus: results.CheckWarn, wantProblems: 1,
			want: []string{"setup has not run", `relation "made_by_setup" does not exist`, "did setup create the table?"}},
		{name: "setup pending: a relation setup creates passes",
			sts: []preflight.Statement{
				st("read", "SELECT * FROM made_by_setup WHERE id = $1", 1),
				st("view", "SELECT * FROM setup_view", 0),
				st("plain", "SELECT 1", 0),
			},
			setup: []string{
				"CREATE TABLE IF NOT EXISTS made_by_setup (id int PRIMARY KEY)",
				"INSERT INTO made_by_setup SELECT g FROM generate_series(1, 10) g",
				"CREATE OR REPLACE VIEW setup_view AS SELECT 1 AS one",
			},
			pending: true, wantStatus: results.CheckPass,
			want: []string{"3 statements of 1 mix: 2 of 3 name relations created by setup (made_by_setup, setup_view), which preflight does not run: a run checks them after setup; 1 prepared"}},
		{name: "setup pending: a relation setup does not create still warns",
			sts: []preflight.Statement{
				st("read", "SELECT * FROM made_by_setup", 0),
				st("other", "SELECT * FROM not_in_setup", 0),
			},
			setup:   []string{"CREATE TABLE made_by_setup (id int)"},
			pending: true, wantStatus: results.CheckWarn, wantProblems: 1,
			want: []string{`relation "not_in_setup" does not exist`, "1 of 2 name a relation created by setup (made_by_setup)"}},
		{name: "setup pending: a temporary table of setup is not the pool's",
			sts:     []preflight.Statement{st("read", "SELECT * FROM made_by_setup", 0)},
			setup:   []string{"CREATE TEMP TABLE made_by_setup (id int)"},
			pending: true, wantStatus: results.CheckWarn, wantProblems: 1,
			want: []string{`relation "made_by_setup" does not exist`, "setup creates it as a temporary table"}},
		{name: "setup pending: a syntax error still fails",
			sts: []preflight.Statement{
				st("read", "SELECT * FROM made_by_setup", 0),
				st("typo", "SELEC 1", 0),
			},
			pending: true, wantStatus: results.CheckFail, wantProblems: 2,
			want: []string{"1 of 2 statements of 1 mix do not prepare", "SQLSTATE 42601"}},
		{name: "no statements",
			wantStatus: results.CheckPass, want: []string{"no statements"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := checkStatements(t, preflight.StatementsConfig{Statements: c.sts, HasSetup: c.pending, SetupPending: c.pending, Setup: c.setup})
			if res.Check.Name != preflight.CheckStatements || !res.Check.Critical {
				t.Errorf("check %q critical=%t, want %q critical", res.Check.Name, res.Check.Critical, preflight.CheckStatements)
			}
			if res.Check.Status != c.wantStatus {
				t.Errorf("status %s, want %s", res.Check.Status, c.wantStatus)
			}
			if len(res.Problems) != c.wantProblems {
				t.Errorf("%d problems, want %d: %v", len(res.Problems), c.wantProblems, res.Problems)
			}
			err := res.Err()
			if (err != nil) != (c.wantStatus == results.CheckFail) {
				t.Errorf("Err() = %v with status %s", err, res.Check.Status)
			}
			for _, w := range c.want {
				if !strings.Contains(res.Check.Reason, w) {
					t.Errorf("reason lacks %q", w)
				}
				if err != nil && !strings.Contains(err.Error(), w) && !strings.Contains(w, "do not prepare") {
					t.Errorf("Err() lacks %q", w)
				}
			}
		})
	}
}

// TestStatementsLeaveNothingBehind: the check prepares in the unnamed
// statement and closes its connection, so no prepared statement and no
// backend of its own remain.
func TestStatementsLeaveNothingBehind(t *testing.T) {
	app := fmt.Sprintf("planrun-preflight-st-%d", os.Getpid())
	res := preflight.Statements(context.Background(), preflight.StatementsConfig{
		ConnString: testDSN(t), ApplicationName: app,
		Statements: []preflight.Statement{st("a", "SELECT 1", 0), st("b", "SELECT $1::int", 1)},
	})
	if res.Check.Status != results.CheckPass {
		t.Fatalf("%s: %s", res.Check.Status, res.Check.Reason)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the backend exits just after the client closes
	}
	if n != 0 {
		t.Errorf("%d backends of the check still connected", n)
	}
}

// compile loads a plan written inline, points it at the test server and compiles it.
func compile(t *testing.T, src string) *engine.Program {
	t.Helper()
	plan, err := schema.Parse("plan.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	plan.Target.URL = testDSN(t)
	plan.Target.ApplicationName = fmt.Sprintf("planrun-preflight-test-%d-%d", os.Getpid(), tableSeq.Add(1))
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("plan does not compile:\n%v", err)
	}
	return prog
}

func findCheck(run *results.Run, name string) (results.Check, bool) {
	for _, c := range run.Preflight {
		if c.Name == name {
			return c, true
		}
	}
	return results.Check{}, false
}

// TestRunStopsAtBadStatements: a plan whose mix misspells the table setup
// created and one of its columns stops before any load with a preflight
// Failure (exit code 3 in the CLI) naming both statements, and teardown
// still runs. (A `$2` with one arg never gets here: validate counts
// placeholders; TestStatements checks the server-side count.)
func TestRunStopsAtBadStatements(t *testing.T) {
	table := uniqueTable(t, "preflight_run")
	prog := compile(t, fmt.Sprintf(`version: 1
name: bad-statements
pool: {size: 2, max_overflow: 0}
setup:
  - CREATE TABLE %[1]s (id int PRIMARY KEY, balance int)
teardown:
  - DROP TABLE IF EXISTS %[1]s
mixes:
  m:
    - name: read
      sql: SELECT balance FROM %[1]s WHERE id = $1
      args: [1]
    - name: transfer
      transaction:
        - {sql: "UPDATE %[1]s SET balanse = balance - $2 WHERE id = $1", args: [1, 2]}
        - {sql: "SELECT balance FROM %[1]s_misspelt WHERE id = $1", args: [1]}
scenarios:
  - {name: s, users: 2, duration: 1h}
`, table))
	start := time.Now()
	run, err := engine.Run(context.Background(), prog, engine.RunOptions{})
	t.Logf("stopped after %s:\n%v", time.Since(start).Round(time.Millisecond), err)

	var f *engine.Failure
	if !errors.As(err, &f) || f.Stage != "preflight" {
		t.Fatalf("err = %v, want a preflight Failure (exit code 3)", err)
	}
	for _, want := range []string{
		`mix "m" operation "transfer" statement 1 (plan.yaml:15:18)`,
		`column "balanse" of relation "` + table + `" does not exist (SQLSTATE 42703)`,
		`mix "m" operation "transfer" statement 2 (plan.yaml:16:18)`,
		fmt.Sprintf(`relation "%s_misspelt" does not exist (SQLSTATE 42P01)`, table),
		"did setup create the table?",
		"2 of 3 statements do not prepare",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	if run.Status != results.StatusFailed || len(run.Scenarios) != 0 {
		t.Errorf("status %s with %d scenarios, want failed before any scenario", run.Status, len(run.Scenarios))
	}
	if c, ok := findCheck(run, preflight.CheckStatements); !ok || c.Status != results.CheckFail || !c.Critical {
		t.Errorf("statements check %+v (found %t), want a critical failure", c, ok)
	}
	if !strings.Contains(run.StatusReason, "42P01") {
		t.Errorf("status reason %q should carry the SQLSTATE", run.StatusReason)
	}
	if tableExists(t, table) {
		t.Error("teardown did not run after the statements check failed")
	}
}

// TestRunPassesWithSetupTables: statements that use what setup created, a
// utility statement and a transaction pass the check, and the load runs
// without errors.
func TestRunPassesWithSetupTables(t *testing.T) {
	table := uniqueTable(t, "preflight_ok")
	prog := compile(t, fmt.Sprintf(`version: 1
name: good-statements
pool: {size: 2, max_overflow: 0}
setup:
  - CREATE TABLE %[1]s (id int PRIMARY KEY, balance int)
  - INSERT INTO %[1]s SELECT g, 100 FROM generate_series(1, 10) g
teardown:
  - DROP TABLE IF EXISTS %[1]s
mixes:
  reads:
    - name: read
      sql: SELECT balance FROM %[1]s WHERE id = $1
      args: [randInt(1, 10)]
    - name: tune
      sql: SET application_name = 'x'
  writes:
    - name: transfer
      transaction:
        - SET LOCAL lock_timeout = '2s'
        - {sql: "UPDATE %[1]s SET balance = balance - $2 WHERE id = $1", args: [1, 1]}
        - {sql: "UPDATE %[1]s SET balance = balance + $2 WHERE id = $1", args: [2, 1]}
scenarios:
  - {name: r, mix: reads, users: 1, duration: 300ms, think: 10ms}
  - {name: w, mix: writes, users: 1, duration: 300ms, think: 10ms}
`, table))
	run, err := engine.Run(context.Background(), prog, engine.RunOptions{Logf: t.Logf})
	if err != nil {
		t.Fatalf("run failed: %v", err)
	}
	c, ok := findCheck(run, preflight.CheckStatements)
	if !ok || c.Status != results.CheckPass {
		t.Fatalf("statements check %+v (found %t), want pass", c, ok)
	}
	if !strings.HasPrefix(c.Reason, "5 statements of 2 mixes prepared") || !strings.Contains(c.Reason, "2 utility statements (SET) only parsed") {
		t.Errorf("reason %q", c.Reason)
	}
	if len(run.Scenarios) != 2 {
		t.Fatalf("%d scenarios ran, want 2", len(run.Scenarios))
	}
	for _, sc := range run.Scenarios {
		if sc.Ops == 0 || sc.Errors != 0 {
			t.Errorf("scenario %s: %d ops, %d errors %v", sc.Name, sc.Ops, sc.Errors, sc.ErrorSamples)
		}
	}
	if tableExists(t, table) {
		t.Error("teardown did not run")
	}
}

// TestPreflightOnly: `planrun preflight` runs no setup. Without setup a
// misspelt table fails the check; a table setup's SQL creates passes as
// created by setup; one setup may create in a way not read (a DO block)
// only warns; and nothing is created on the target.
func TestPreflightOnly(t *testing.T) {
	t.Run("no setup: a missing table fails", func(t *testing.T) {
		prog := compile(t, `version: 1
name: preflight-only
mixes:
  m:
    - {name: read, sql: SELECT * FROM preflight_only_missing}
scenarios:
  - {name: s, users: 1, duration: 1h}
`)
		run, err := engine.Preflight(context.Background(), prog, engine.RunOptions{})
		var f *engine.Failure
		if !errors.As(err, &f) || f.Stage != "preflight" {
			t.Fatalf("err = %v, want a preflight Failure", err)
		}
		if !strings.Contains(err.Error(), "SQLSTATE 42P01") || !strings.Contains(err.Error(), "the plan has no setup") {
			t.Errorf("error %v", err)
		}
		if c, _ := findCheck(run, preflight.CheckStatements); c.Status != results.CheckFail {
			t.Errorf("check %+v", c)
		}
	})
	t.Run("setup not run: a table it creates passes as created by setup", func(t *testing.T) {
		table := uniqueTable(t, "preflight_pending")
		prog := compile(t, fmt.Sprintf(`version: 1
name: preflight-only-setup
setup: [CREATE TABLE %[1]s (id int)]
teardown: [DROP TABLE IF EXISTS %[1]s]
mixes:
  m:
    - {name: read, sql: SELECT * FROM %[1]s}
scenarios:
  - {name: s, users: 1, duration: 1h}
`, table))
		run, err := engine.Preflight(context.Background(), prog, engine.RunOptions{})
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		c, _ := findCheck(run, preflight.CheckStatements)
		if c.Status != results.CheckPass || !strings.Contains(c.Reason, "created by setup ("+table+")") {
			t.Errorf("check %+v, want a pass naming the table setup creates", c)
		}
		if tableExists(t, table) {
			t.Error("planrun preflight ran setup")
		}
	})
	t.Run("setup not run: a table it may create otherwise warns", func(t *testing.T) {
		table := uniqueTable(t, "preflight_pending_do")
		prog := compile(t, fmt.Sprintf(`version: 1
name: preflight-only-setup-do
setup: ["DO $$ BEGIN EXECUTE 'CREATE TABLE %[1]s (id int)'; END $$"]
teardown: [DROP TABLE IF EXISTS %[1]s]
mixes:
  m:
    - {name: read, sql: SELECT * FROM %[1]s}
scenarios:
  - {name: s, users: 1, duration: 1h}
`, table))
		run, err := engine.Preflight(context.Background(), prog, engine.RunOptions{})
		if err != nil {
			t.Fatalf("err = %v, want none (a warning)", err)
		}
		c, _ := findCheck(run, preflight.CheckStatements)
		if c.Status != results.CheckWarn || !strings.Contains(c.Reason, "setup has not run") {
			t.Errorf("check %+v, want a warning that setup has not run", c)
		}
		if tableExists(t, table) {
			t.Error("planrun preflight ran setup")
		}
	})
}

// TestStatementsInterrupted: preparing a statement waits for a lock another
// session holds on its table; an interrupt then ends the check at once, as
// a failure that says so.
func TestStatementsInterrupted(t *testing.T) {
	table := uniqueTable(t, "preflight_locked")
	exec(t, fmt.Sprintf("CREATE TABLE %s (id int)", table))
	t.Cleanup(func() { exec(t, "DROP TABLE IF EXISTS "+table) })

	bg := context.Background()
	holder, err := pgx.Connect(bg, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(bg)
	lock, err := holder.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback(bg) }()
	if _, err := lock.Exec(bg, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	res := preflight.Statements(ctx, preflight.StatementsConfig{
		ConnString: testDSN(t), ApplicationName: "planrun-preflight-test",
		Statements: []preflight.Statement{st("locked", "SELECT * FROM "+table, 0), st("after", "SELECT 1", 0)},
	})
	t.Logf("after %s: %s %s\n%v", time.Since(start).Round(time.Millisecond), res.Check.Status, res.Check.Reason, res.Err())
	if res.Check.Status != results.CheckFail || !strings.Contains(res.Check.Reason, "interrupted after 0 of 2 statements") {
		t.Errorf("check %s %q, want a failure saying it was interrupted", res.Check.Status, res.Check.Reason)
	}
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("Err() = %v", err)
	}
	if time.Since(start) > preflight.QueryTimeout {
		t.Errorf("the interrupt took %s to end the check", time.Since(start))
	}
}

// TestStatementsOnGivenConn: with Conn set the check prepares on it, opens
// no connection of its own, and leaves it open with no prepared statement.
func TestStatementsOnGivenConn(t *testing.T) {
	ctx := context.Background()
	app := fmt.Sprintf("planrun-preflight-given-%d", os.Getpid())
	cfg, err := pgx.ParseConfig(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	var backends int
	res := preflight.Statements(ctx, preflight.StatementsConfig{
		ConnString: testDSN(t), ApplicationName: app, Conn: conn,
		Statements: []preflight.Statement{
			st("add", "SELECT $1::int + 41", 1),
			st("bad", "SELECT * FROM given_conn_missing", 0),
		},
	})
	t.Logf("%s: %s", res.Check.Status, res.Check.Reason)
	if res.Check.Status != results.CheckFail || len(res.Problems) != 1 || res.Problems[0].SQLState != "42P01" {
		t.Errorf("check %s, problems %v: want the missing table only", res.Check.Status, res.Problems)
	}
	if conn.IsClosed() {
		t.Fatal("the check closed the caller's connection")
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&backends); err != nil {
		t.Fatalf("the connection is unusable after the check: %v", err)
	}
	if backends != 1 {
		t.Errorf("%d backends named %s, want 1: the check opened a connection of its own", backends, app)
	}
	var prepared int // pgx's own cached statements (stmtcache_*) aside
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE name NOT LIKE 'stmtcache_%'`).Scan(&prepared); err != nil {
		t.Fatal(err)
	}
	if prepared != 0 {
		t.Errorf("%d prepared statements left on the connection", prepared)
	}
}

// TestRunSetupSessionIsNotThePools: setup that sets the search_path for
// its own session creates a table the pool's connections cannot see by its
// bare name. The check prepares on a fresh connection, as the pool will, so
// it fails there instead of minutes into the load.
func TestRunSetupSessionIsNotThePools(t *testing.T) {
	schemaName := uniqueTable(t, "preflight_schema")
	prog := compile(t, fmt.Sprintf(`version: 1
name: setup-search-path
pool: {size: 1, max_overflow: 0}
setup:
  - CREATE SCHEMA %[1]s
  - SET search_path = %[1]s
  - CREATE TABLE only_in_schema (id int)
teardown:
  - DROP SCHEMA IF EXISTS %[1]s CASCADE
mixes:
  m:
    - {name: read, sql: SELECT * FROM only_in_schema}
scenarios:
  - {name: s, users: 1, duration: 1h}
`, schemaName))
	run, err := engine.Run(context.Background(), prog, engine.RunOptions{})
	var f *engine.Failure
	if !errors.As(err, &f) || f.Stage != "preflight" || !strings.Contains(err.Error(), "SQLSTATE 42P01") {
		t.Fatalf("err = %v, want the statements check to fail with 42P01", err)
	}
	if len(run.Scenarios) != 0 {
		t.Errorf("%d scenarios ran", len(run.Scenarios))
	}
}

// TestSetupCreates: the relations setup creates for the pool's connections,
// read from its SQL as the server would fold the names.
func TestSetupCreates(t *testing.T) {
	cases := []struct {
		name       string
		setup      []string
		want, temp []string
	}{
		{"create table", []string{"CREATE TABLE IF NOT EXISTS planrun_accounts (id int PRIMARY KEY)"}, []string{"planrun_accounts"}, nil},
		{"names fold to lower case unless quoted", []string{`create unlogged table Accounts (id int)`, `CREATE TABLE "MixedCase" (id int)`}, []string{"accounts", "MixedCase"}, nil},
		{"qualified", []string{`CREATE TABLE app."Ledger" AS SELECT 1 AS x`}, []string{"app.Ledger"}, nil},
		{"views, sequences, foreign tables", []string{
			"CREATE OR REPLACE VIEW v AS SELECT 1",
			"CREATE MATERIALIZED VIEW IF NOT EXISTS mv AS SELECT 1",
			"CREATE RECURSIVE VIEW rv (n) AS SELECT 1",
			"CREATE SEQUENCE seq",
			"CREATE FOREIGN TABLE ft (id int) SERVER s",
		}, []string{"v", "mv", "rv", "seq", "ft"}, nil},
		{"select into", []string{"SELECT g AS id INTO TABLE copied FROM generate_series(1, 3) g", "WITH x AS (SELECT 1) SELECT * INTO unlogged copied2 FROM x"}, []string{"copied", "copied2"}, nil},
		{"several commands in one string", []string{"CREATE TABLE a (id int); -- and\nCREATE TABLE b (id int)"}, []string{"a", "b"}, nil},
		{"temporary relations are not the pool's", []string{"CREATE TEMP TABLE t1 (id int)", "CREATE GLOBAL TEMPORARY TABLE t2 (id int)", "SELECT 1 INTO TEMP t3"}, nil, []string{"t1", "t2", "t3"}},
		{"not a creation", []string{
			"INSERT INTO t SELECT 1",
			"WITH w AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT * FROM w",
			"CREATE INDEX i ON t (id)",
			"SELECT 'CREATE TABLE fake (id int)'",
			"DO $$ BEGIN CREATE TABLE in_do (id int); END $$",
			"CREATE FUNCTION f() RETURNS void AS $body$ CREATE TABLE in_fn (id int) $body$ LANGUAGE sql",
			"/* CREATE TABLE commented (id int) */ SELECT 1",
			"SELECT E'it\\'s; CREATE TABLE esc (id int)'",
		}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, temp := preflight.SetupCreates(c.setup)
			if strings.Join(got, ",") != strings.Join(c.want, ",") || strings.Join(temp, ",") != strings.Join(c.temp, ",") {
				t.Errorf("SetupCreates(%q) = %q, temporary %q; want %q, %q", c.setup, got, temp, c.want, c.temp)
			}
		})
	}
}
