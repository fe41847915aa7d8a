package preflight

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// CheckStatements is the name of the check that prepares every statement of
// the mixes before any load (see [Statements]).
const CheckStatements = "statements"

// Statement is one SQL statement of a mix, as the statements check sees it.
type Statement struct {
	Mix       string
	Operation string
	// Index is the statement's 1-based place in a transaction operation, 0
	// for an operation with a single `sql`.
	Index int
	SQL   string
	// Args is the number of `args` the plan passes to the statement.
	Args int
	// Pos is where the statement is written: its SQL text inside a
	// transaction, the operation itself for a single `sql` (the schema keeps
	// no finer position for it).
	Pos schema.Pos
}

// where names the statement: mix, operation, place in the transaction, position.
func (s Statement) where() string {
	w := fmt.Sprintf("mix %q operation %q", s.Mix, s.Operation)
	if s.Index > 0 {
		w += fmt.Sprintf(" statement %d", s.Index)
	}
	return w + " (" + s.Pos.String() + ")"
}

// StatementsConfig says what the statements check prepares, and where.
type StatementsConfig struct {
	// ConnString is the target. The check opens one connection of its own
	// unless Conn is set.
	ConnString string
	// Conn, when set, is the connection to prepare on instead: it must be a
	// session nothing has changed (no SET, no temporary objects), since the
	// pool's connections will not share such changes. The check leaves it
	// open and leaves nothing behind on it (the unnamed statement only). If
	// it is closed, or a statement that times out closes it, the check opens
	// one of its own.
	Conn *pgx.Conn
	// ApplicationName is set as application_name on the check's connection.
	ApplicationName string
	// ConnectTimeout bounds opening the connection. Default: the connection
	// string's connect_timeout, else [DefaultConnectTimeout].
	ConnectTimeout time.Duration
	// Statements to check, one per statement of the mixes the plan runs.
	Statements []Statement
	// HasSetup is true when the plan has setup statements (for the hints).
	HasSetup bool
	// SetupPending is true when the plan has setup statements that have not
	// run (`planrun preflight` runs no setup): a statement naming a table,
	// column, function, type or schema that does not exist may be waiting
	// for setup to create it, so such failures make the check warn instead
	// of fail. Every other failure still fails it.
	SetupPending bool
	// Setup is the SQL of the plan's setup statements, in order. With
	// SetupPending, a statement that fails only because a relation does not
	// exist passes when setup creates that relation (CREATE TABLE, VIEW,
	// MATERIALIZED VIEW, FOREIGN TABLE or SEQUENCE, SELECT ... INTO; not a
	// temporary one, which the pool's connections never see): it is
	// counted in [StatementsResult.FromSetup]. Setup is read, never run.
	Setup []string
}

// Problem is one statement that does not prepare, or whose parameters do not
// match its args.
type Problem struct {
	Statement Statement
	// SQLState is the server's code; "" when the problem is planrun's own
	// finding (a parameter count that differs from the args) or the server
	// did not answer.
	SQLState string
	// Message is the server's message, or planrun's.
	Message string
	// Hint says what to look at.
	Hint string
	// Doubtful is true when the failure may go away once setup has run
	// (see [StatementsConfig.SetupPending]).
	Doubtful bool
}

// String is one line: mix, operation, position, message, SQLSTATE and hint.
func (p Problem) String() string {
	s := p.Statement.where() + ": " + p.Message
	if p.SQLState != "" {
		s += " (SQLSTATE " + p.SQLState + ")"
	}
	if p.Hint != "" {
		s += "; hint: " + p.Hint
	}
	return s
}

// StatementsResult is the outcome of [Statements].
type StatementsResult struct {
	// Check is the "statements" check, critical.
	Check results.Check
	// Problems lists every statement that failed, in plan order.
	Problems []Problem
	// Total is the number of statements checked.
	Total int
	// Prepared counts the statements the server parsed and described,
	// ParsedOnly those among them that are utility statements (SET, CREATE,
	// VACUUM, ...), which the server checks against the catalog only when
	// they run, and Unchecked the statements the check could not judge (see
	// [Statements]).
	Prepared, ParsedOnly, Unchecked int
	// FromSetup counts the statements that name a relation setup creates
	// and that does not exist yet (planrun preflight runs no setup): the
	// server stops at the missing relation, so the rest of such a statement
	// is checked only by a run, after setup. They do not fail the check.
	FromSetup int
	// stopped is true when the check ended early (interrupted, connection
	// lost): the reason says why, and Problems holds those found until then.
	stopped bool
}

// stop ends the check early with a failure saying why, keeping the problems
// found until then in the reason.
func (r *StatementsResult) stop(why string) StatementsResult {
	r.stopped = true
	r.Check.Status = results.CheckFail
	r.Check.Reason = why
	for _, p := range r.Problems {
		r.Check.Reason += " | " + p.String()
	}
	return *r
}

// Err returns nil unless the check failed; then an error listing every
// failing statement, one per line.
func (r StatementsResult) Err() error {
	if r.Check.Status != results.CheckFail {
		return nil
	}
	if len(r.Problems) == 0 || r.stopped {
		return fmt.Errorf("check %s: %s", r.Check.Name, r.Check.Reason)
	}
	lines := make([]string, 0, len(r.Problems))
	for _, p := range r.Problems {
		if !p.Doubtful {
			lines = append(lines, "  - "+p.String())
		}
	}
	return fmt.Errorf("check %s: %d of %d statements do not prepare:\n%s",
		r.Check.Name, len(lines), r.Total, strings.Join(lines, "\n"))
}

// Statements prepares every statement on a connection of its own (or
// [StatementsConfig.Conn]), with the
// extended protocol's Parse and Describe and never an Execute, in the
// unnamed statement (nothing is left behind on the server). That catches
// unknown tables, columns and functions, syntax errors, missing privileges
// and parameters the server cannot type; then the number of parameters the
// server found is compared with the statement's args. It runs no load and
// changes nothing on the server.
//
// Statements that cannot be judged this way are not failed but counted in
// the reason:
//
//   - utility statements (SET, CREATE, LOCK, VACUUM, BEGIN, ...) are parsed
//     (a syntax error fails), but the server looks up what they name only
//     when they run;
//   - a string of several commands and no args cannot be prepared, but runs
//     with the simple protocol (pgx's choice without args), so it is not
//     checked;
//   - in a transaction, a statement after one that may change what names
//     mean (SET search_path, CREATE TEMP TABLE, DO, CALL, ...) is not failed
//     for naming something that does not exist: the earlier statement is
//     not run, so it may be what creates it (with SetupPending such a
//     statement warns instead, like any other that setup may cure).
//
// Every failing statement is reported, not just the first. The check fails
// (critically) when any statement fails; with [StatementsConfig.SetupPending]
// failures that setup may cure only make it warn.
func Statements(ctx context.Context, cfg StatementsConfig) StatementsResult {
	res := StatementsResult{Check: results.Check{Name: CheckStatements, Critical: true}, Total: len(cfg.Statements)}
	if len(cfg.Statements) == 0 {
		res.Check.Status = results.CheckPass
		res.Check.Reason = "no statements to prepare"
		return res
	}
	dial := func() (*pgx.Conn, results.Check) {
		return connect(ctx, Config{
			ConnString: cfg.ConnString, ApplicationName: cfg.ApplicationName,
			Pool: results.Pool{ConnectTimeout: cfg.ConnectTimeout},
		})
	}
	conn := cfg.Conn
	if conn == nil || conn.IsClosed() {
		var reach results.Check
		if conn, reach = dial(); conn == nil {
			res.Check.Status = results.CheckFail
			res.Check.Reason = reach.Reason
			return res
		}
	}
	// Close the connection the check opened, never the caller's.
	defer func() {
		if conn != cfg.Conn {
			closeConn(ctx, conn)
		}
	}()
	password := conn.Config().Password
	var created, temp []string // the relations setup creates, for the pool's connections and its own
	if cfg.SetupPending {
		created, temp = setupCreates(cfg.Setup)
	}

	var parsedOnly, unchecked, fromSetup []string // keywords, reasons and relations, for the summary
	mixes := map[string]bool{}
	// changed is where, in the current transaction operation, an earlier
	// statement may have changed what names mean.
	changed := ""
	for i, st := range cfg.Statements {
		mixes[st.Mix] = true
		if i == 0 || st.Index <= 1 || st.Mix != cfg.Statements[i-1].Mix || st.Operation != cfg.Statements[i-1].Operation {
			changed = ""
		}
		if ctx.Err() != nil {
			return res.stop(fmt.Sprintf("interrupted after %d of %d statements", i, len(cfg.Statements)))
		}
		if conn.IsClosed() {
			// A statement that timed out closes the connection: open another one.
			if conn != cfg.Conn {
				closeConn(ctx, conn)
			}
			var reach results.Check
			if conn, reach = dial(); conn == nil {
				return res.stop(fmt.Sprintf("lost the connection after %d of %d statements: %s", i, len(cfg.Statements), reach.Reason))
			}
		}
		kw := firstKeyword(st.SQL)
		sd, err := prepare(ctx, conn.PgConn(), st.SQL)
		if err == nil {
			res.Prepared++
			if !analysed[kw] {
				res.ParsedOnly++
				parsedOnly = append(parsedOnly, kw)
			}
			if n := len(sd.ParamOIDs); n != st.Args {
				res.Problems = append(res.Problems, Problem{Statement: st,
					Message: fmt.Sprintf("the SQL has %s but the operation passes %s", humanize.Count(int64(n), "parameter", "parameters"), humanize.Count(int64(st.Args), "arg", "args")),
					Hint:    countHint(n, st.Args)})
			}
			if mayChangeNames(kw, st.SQL) {
				changed = fmt.Sprintf("statement %d (%s)", st.Index, kw)
			}
			continue
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			if ctx.Err() != nil {
				return res.stop(fmt.Sprintf("interrupted after %d of %d statements", i, len(cfg.Statements)))
			}
			msg := "no answer: " + redact.Secret(redact.Text(oneLine(err.Error())), password)
			if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
				msg = fmt.Sprintf("no answer within %s", QueryTimeout)
			}
			res.Problems = append(res.Problems, Problem{Statement: st,
				Message: msg,
				Hint:    fmt.Sprintf("preparing should take milliseconds; a lock held on a table it names can block it for longer than %s", QueryTimeout)})
			continue
		}
		switch {
		case pgErr.Code == sqlstateSyntaxError && st.Args == 0 && strings.Contains(pgErr.Message, "multiple commands"):
			res.Unchecked++
			unchecked = append(unchecked, fmt.Sprintf("%s: several commands in one string (run with the simple protocol)", st.where()))
			if st.Index > 0 {
				changed = fmt.Sprintf("statement %d (several commands)", st.Index)
			}
		case pgErr.Code == sqlstateUndefinedTable && createdBySetup(pgErr.Message, created) != "":
			res.FromSetup++
			fromSetup = append(fromSetup, createdBySetup(pgErr.Message, created))
		case changed != "" && undefinedName[pgErr.Code] && !cfg.SetupPending:
			res.Unchecked++
			unchecked = append(unchecked, fmt.Sprintf("%s names what %s of its transaction may create or change (preflight runs no statement): %s",
				st.where(), changed, oneLine(pgErr.Message)))
		default:
			hint := serverHint(pgErr, st, cfg.HasSetup)
			if pgErr.Code == sqlstateUndefinedTable && createdBySetup(pgErr.Message, temp) != "" {
				hint = "setup creates it as a temporary table, which only setup's own connection sees, never the pool's: create it as a regular table"
			}
			res.Problems = append(res.Problems, Problem{Statement: st,
				SQLState: pgErr.Code,
				Message:  redact.Secret(redact.Text(oneLine(pgErr.Message)), password),
				Hint:     hint,
				Doubtful: cfg.SetupPending && undefinedName[pgErr.Code],
			})
		}
	}
	res.judge(len(mixes), cfg, parsedOnly, unchecked, fromSetup)
	return res
}

// judge sets the check's status and reason.
func (r *StatementsResult) judge(mixes int, cfg StatementsConfig, parsedOnly, unchecked, fromSetup []string) {
	var notes []string
	created := "" // the statements waiting for setup, said once
	if r.FromSetup > 0 {
		rels, what := distinct(fromSetup), "relations"
		if len(rels) == 1 {
			what = "a relation"
		}
		created = fmt.Sprintf("%d of %d name %s created by setup (%s), which preflight does not run: a run checks them after setup",
			r.FromSetup, r.Total, what, strings.Join(rels, ", "))
	}
	if r.ParsedOnly > 0 {
		they := "they name when they run"
		if r.ParsedOnly == 1 {
			they = "it names when it runs"
		}
		notes = append(notes, fmt.Sprintf("%s (%s) only parsed: the server checks what %s",
			humanize.Count(int64(r.ParsedOnly), "utility statement", "utility statements"), strings.Join(distinct(parsedOnly), ", "), they))
	}
	if r.Unchecked > 0 {
		notes = append(notes, fmt.Sprintf("%d not checked: %s", r.Unchecked, strings.Join(unchecked, "; ")))
	}
	var definite, doubtful []string
	for _, p := range r.Problems {
		if p.Doubtful {
			doubtful = append(doubtful, p.String())
		} else {
			definite = append(definite, p.String())
		}
	}
	pending := fmt.Sprintf("%d of %d statements of %s name something that does not exist yet; setup has not run (planrun preflight runs none), and may create it: %s",
		len(doubtful), r.Total, humanize.Count(int64(mixes), "mix", "mixes"), strings.Join(doubtful, " | "))
	if created != "" && (len(definite) > 0 || len(doubtful) > 0) {
		notes = append([]string{created}, notes...)
	}
	switch {
	case len(definite) > 0:
		r.Check.Status = results.CheckFail
		r.Check.Reason = fmt.Sprintf("%d of %d statements of %s do not prepare: %s",
			len(definite), r.Total, humanize.Count(int64(mixes), "mix", "mixes"), strings.Join(definite, " | "))
		if len(doubtful) > 0 {
			notes = append([]string{pending}, notes...)
		}
	case len(doubtful) > 0:
		r.Check.Status = results.CheckWarn
		r.Check.Reason = pending
	case created != "":
		r.Check.Status = results.CheckPass
		r.Check.Reason = fmt.Sprintf("%s of %s: %s", humanize.Count(int64(r.Total), "statement", "statements"), humanize.Count(int64(mixes), "mix", "mixes"), created)
		if r.Prepared > 0 {
			r.Check.Reason += fmt.Sprintf("; %d prepared", r.Prepared)
		}
	default:
		r.Check.Status = results.CheckPass
		r.Check.Reason = fmt.Sprintf("%s of %s prepared", humanize.Count(int64(r.Prepared), "statement", "statements"), humanize.Count(int64(mixes), "mix", "mixes"))
		if cfg.SetupPending {
			r.Check.Reason += " (setup not run)"
		}
	}
	if len(notes) > 0 {
		r.Check.Reason += "; " + strings.Join(notes, "; ")
	}
}

// prepare parses and describes sql in the unnamed statement, within [QueryTimeout].
func prepare(ctx context.Context, pg *pgconn.PgConn, sql string) (*pgconn.StatementDescription, error) {
	qctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	return pg.Prepare(qctx, "", sql, nil)
}

func closeConn(ctx context.Context, conn *pgx.Conn) {
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = conn.Close(closeCtx)
}

// SQLSTATEs the statements check treats specially.
const (
	sqlstateSyntaxError           = "42601"
	sqlstateUndefinedTable        = "42P01"
	sqlstateUndefinedColumn       = "42703"
	sqlstateUndefinedFunction     = "42883"
	sqlstateUndefinedObject       = "42704"
	sqlstateInvalidSchemaName     = "3F000"
	sqlstateIndeterminateDatatype = "42P18"
	sqlstateUndefinedParameter    = "42P02"
)

// undefinedName holds the SQLSTATEs of a name that does not exist (yet):
// what setup, or an earlier statement of the transaction, may create.
var undefinedName = map[string]bool{
	sqlstateUndefinedTable:    true,
	sqlstateUndefinedColumn:   true,
	sqlstateUndefinedFunction: true,
	sqlstateUndefinedObject:   true,
	sqlstateInvalidSchemaName: true,
}

// serverHint says what to look at for a server error.
func serverHint(e *pgconn.PgError, st Statement, hasSetup bool) string {
	created := "it does not exist on the target and the plan has no setup: check the name, or create it in setup"
	if hasSetup {
		created = "did setup create it? check the name against setup"
	}
	switch e.Code {
	case sqlstateUndefinedTable:
		return tableHint(hasSetup)
	case sqlstateUndefinedColumn, sqlstateUndefinedObject, sqlstateInvalidSchemaName:
		return created
	case sqlstateUndefinedFunction:
		return "check the function's name, and its argument types: cast a parameter whose type the server cannot choose ($1::int)"
	case sqlstateIndeterminateDatatype, sqlstateUndefinedParameter:
		return fmt.Sprintf("the operation passes %s, so the SQL should use $1..$%d, each at least once; cast a parameter the server cannot type ($1::int)", humanize.Count(int64(st.Args), "arg", "args"), st.Args)
	case sqlstateInsufficientPriv:
		return "GRANT the plan's user what the statement needs, or run as a user that has it"
	}
	if e.Hint != "" {
		return oneLine(e.Hint)
	}
	return ""
}

func tableHint(hasSetup bool) string {
	if hasSetup {
		return "did setup create the table? check its name and schema (search_path) against setup"
	}
	return "the plan has no setup: does the table exist on the target? check its name and schema (search_path)"
}

// countHint explains a parameter count that differs from the args.
func countHint(params, args int) string {
	if params > args {
		return fmt.Sprintf("add the missing values to `args` (one per parameter, $1 first), or remove $%d..$%d from the SQL", args+1, params)
	}
	if params == 0 {
		return "the SQL uses no $n parameters: remove `args`, or use $1.. where the values go"
	}
	return fmt.Sprintf("remove the extra `args` (the SQL uses $1..$%d), or use them in the SQL", params)
}

// analysed holds the leading keywords of the statements the server analyses
// when it prepares them, looking up every name they use. Every other
// statement is a utility statement: parsed only.
var analysed = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true,
	"VALUES": true, "WITH": true, "TABLE": true, "EXPLAIN": true, "CALL": true, "DECLARE": true,
}

// keepsNames holds the utility statements that cannot change what a later
// statement's names mean.
var keepsNames = map[string]bool{
	"BEGIN": true, "START": true, "COMMIT": true, "END": true, "ROLLBACK": true, "ABORT": true,
	"SAVEPOINT": true, "RELEASE": true, "LOCK": true, "SHOW": true, "NOTIFY": true, "LISTEN": true,
	"UNLISTEN": true, "VACUUM": true, "ANALYZE": true, "CHECKPOINT": true, "TRUNCATE": true,
}

// mayChangeNames reports whether a statement sql beginning with kw may,
// when it runs, create something or change the search_path for the
// statements after it in a transaction: a procedure call, a SET or RESET of
// the search_path (SET SCHEMA is its alias, RESET ALL resets it), or any
// other utility statement not in keepsNames.
func mayChangeNames(kw, sql string) bool {
	upper := strings.ToUpper(sql)
	switch kw {
	case "CALL":
		return true
	case "SET":
		return strings.Contains(upper, "SEARCH_PATH") || setSchema.MatchString(upper)
	case "RESET":
		return strings.Contains(upper, "SEARCH_PATH") || strings.Contains(upper, "ALL")
	}
	return !analysed[kw] && !keepsNames[kw]
}

// setSchema matches SET [LOCAL | SESSION] SCHEMA, an alias of SET search_path.
var setSchema = regexp.MustCompile(`^\s*SET\s+((LOCAL|SESSION)\s+)?SCHEMA\b`)

// firstKeyword returns the statement's first word in upper case, after
// white space, comments and opening parentheses; "" when there is none.
func firstKeyword(sql string) string {
	s := sql
	for {
		s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '(' })
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
				continue
			}
			return ""
		}
		end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '_' })
		if end < 0 {
			end = len(s)
		}
		return strings.ToUpper(s[:end])
	}
}

// distinct returns the values of list in first-seen order, each once.
func distinct(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
