package pool

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// IsolationLevel is what a checkout begins before its first statement, by
// SQLAlchemy's name (isolation_level, lower case).
type IsolationLevel string

// Isolation levels. "" is [ReadCommitted].
const (
	ReadCommitted  IsolationLevel = "read_committed"
	RepeatableRead IsolationLevel = "repeatable_read"
	Serializable   IsolationLevel = "serializable"
	// Autocommit begins nothing: each statement commits on its own, and
	// nothing is reset on return.
	Autocommit IsolationLevel = "autocommit"
)

// ResetOnReturn is what [Pool.Release] does with a transaction still open,
// by SQLAlchemy's name (pool_reset_on_return).
type ResetOnReturn string

// Resets. "" is [ResetRollback].
const (
	ResetRollback ResetOnReturn = "rollback"
	ResetCommit   ResetOnReturn = "commit"
	// ResetNone leaves the transaction open on the idle connection: the next
	// checkout continues it, as with SQLAlchemy's reset_on_return=None.
	ResetNone ResetOnReturn = "none"
)

// The statements, spelled as asyncpg sends them (the server logs them so).
var (
	beginStatements = map[IsolationLevel]string{
		"":             "BEGIN ISOLATION LEVEL READ COMMITTED;",
		ReadCommitted:  "BEGIN ISOLATION LEVEL READ COMMITTED;",
		RepeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ;",
		Serializable:   "BEGIN ISOLATION LEVEL SERIALIZABLE;",
		Autocommit:     "",
	}
	resetStatements = map[ResetOnReturn]string{
		"":            rollbackSQL,
		ResetRollback: rollbackSQL,
		ResetCommit:   commitSQL,
		ResetNone:     "",
	}
)

const (
	rollbackSQL = "ROLLBACK;"
	commitSQL   = "COMMIT;"
	// plainBegin begins the transaction of a transaction operation under
	// autocommit (where SQLAlchemy's engine.begin() would send nothing).
	plainBegin = "BEGIN"
	// pingSQL is SQLAlchemy's pre-ping (the dialect's "select one").
	pingSQL = "SELECT 1"
)

// StatementCacheCapacity is how many prepared statements a connection
// keeps (the least recently used is deallocated past it): SQLAlchemy's
// asyncpg prepared_statement_cache_size default.
const StatementCacheCapacity = 100

// introspectSQL is asyncpg's type introspection query, which SQLAlchemy's
// asyncpg dialect makes it send on every new connection when it registers
// its json and jsonb codecs (introspectOIDs): each time prepared under a
// new name and executed, two round trips.
const introspectSQL = `SELECT
    t.oid,
    t.typelem     AS elemtype,
    t.typtype     AS kind
FROM
    pg_catalog.pg_type AS t
WHERE
    t.oid = $1
`

// introspectOIDs are the types introspected on a new connection: json, jsonb.
var introspectOIDs = [...]uint32{114, 3802}

// initConn sends what SQLAlchemy's asyncpg dialect sends on each new
// connection before its first checkout, bounded by ctx.
func initConn(ctx context.Context, raw *pgx.Conn) error {
	for _, oid := range introspectOIDs {
		rows, err := raw.Query(ctx, introspectSQL, pgx.QueryExecModeDescribeExec, oid)
		if err != nil {
			return fmt.Errorf("introspect type %d: %w", oid, err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("introspect type %d: %w", oid, err)
		}
	}
	return nil
}

// CheckedOut is when the pool handed c over for the checkout in progress:
// before its pre-ping, if any. A checkout is held from then until
// [Pool.Release] has reset it.
func (c *Conn) CheckedOut() time.Time { return c.since }

// Exec runs sql with args on c, as SQLAlchemy over asyncpg does: first
// beginning the checkout's transaction when the pool's isolation level is
// not autocommit and no transaction is open, then running sql as a
// prepared statement of the connection (prepared on its first use on c,
// then reused; see [StatementCacheCapacity]), its rows read and dropped.
// ctx bounds the call; a context that is never cancelled costs pgx nothing
// to watch.
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) error {
	return c.exec(ctx, sql, args...)
}

func (c *Conn) exec(ctx context.Context, sql string, args ...any) error {
	if err := c.Autobegin(ctx); err != nil {
		return err
	}
	// pgx's Exec runs a statement without arguments with the simple
	// protocol; Query prepares it like any other.
	rows, err := c.raw.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// Autobegin begins the checkout's transaction, as SQLAlchemy's Connection
// does before its first statement: "BEGIN ISOLATION LEVEL …;" when the
// pool's isolation level is not autocommit and no transaction is open;
// otherwise it sends nothing. [Conn.Exec] calls it; a caller that times its
// statements calls it first, so that the BEGIN is not counted in the
// first one.
func (c *Conn) Autobegin(ctx context.Context) error {
	if b := c.pool.begin; b != "" && c.raw.PgConn().TxStatus() == 'I' {
		return c.simple(ctx, b)
	}
	return nil
}

// Begin begins a transaction unless one is open, as SQLAlchemy's
// engine.begin() does: "BEGIN ISOLATION LEVEL …;" at the pool's isolation
// level; under autocommit (where engine.begin() sends nothing) a plain
// "BEGIN", so that a transaction operation stays one transaction.
func (c *Conn) Begin(ctx context.Context) error {
	if c.raw.PgConn().TxStatus() != 'I' {
		return nil // the pre-ping began it, or an earlier checkout left it open
	}
	b := c.pool.begin
	if b == "" {
		b = plainBegin
	}
	return c.simple(ctx, b)
}

// Commit commits the open transaction ("COMMIT;"); with none open it sends
// nothing.
func (c *Conn) Commit(ctx context.Context) error {
	if c.raw.PgConn().TxStatus() == 'I' {
		return nil
	}
	return c.simple(ctx, commitSQL)
}

// Rollback rolls the open transaction back ("ROLLBACK;"); with none open it
// sends nothing.
func (c *Conn) Rollback(ctx context.Context) error {
	if c.raw.PgConn().TxStatus() == 'I' {
		return nil
	}
	return c.simple(ctx, rollbackSQL)
}

// reset ends the transaction open on a returned connection with sql. Its
// context is never cancelled, which costs pgx nothing to watch: a server
// that does not answer keeps the caller in Release until its connection
// breaks (the engine closes the socket of a user it stops).
func (c *Conn) reset(sql string) error {
	return c.simple(context.Background(), sql)
}

// simple runs sql with the simple protocol, as asyncpg sends BEGIN,
// COMMIT and ROLLBACK.
func (c *Conn) simple(ctx context.Context, sql string) error {
	_, err := c.raw.PgConn().Exec(ctx, sql).ReadAll()
	return err
}
