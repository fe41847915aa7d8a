package pool_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// TestUseLIFO: three connections returned a, b, c; the next checkout gets
// a (FIFO, the default) or c (UseLIFO).
func TestUseLIFO(t *testing.T) {
	dsn := localpgtest.DSN(t)
	for _, lifo := range []bool{false, true} {
		p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 3, Timeout: 5 * time.Second, UseLIFO: lifo})
		var cs []*pool.Conn
		for range 3 {
			c, err := p.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		for _, c := range cs {
			p.Release(c)
		}
		c, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := cs[0]
		if lifo {
			want = cs[2]
		}
		if c != want {
			t.Errorf("UseLIFO %v: got connection %d, want %d", lifo, backendPID(t, c), backendPID(t, want))
		}
		p.Release(c)
	}
}

// TestCheckoutTransaction: a checkout's first statement begins a
// transaction at the pool's isolation level, the pre-ping being that
// statement when there is one; Release resets it; autocommit begins
// nothing. A transaction operation (Begin … Commit) leaves nothing open.
func TestCheckoutTransaction(t *testing.T) {
	dsn := localpgtest.DSN(t)
	ctx := context.Background()
	for _, tt := range []struct {
		iso     pool.IsolationLevel
		wantTx  byte   // after the first statement
		wantIso string // transaction_isolation then
	}{
		{"", 'T', "read committed"},
		{pool.RepeatableRead, 'T', "repeatable read"},
		{pool.Serializable, 'T', "serializable"},
		{pool.Autocommit, 'I', "read committed"},
	} {
		t.Run(string(tt.iso), func(t *testing.T) {
			p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 1, Timeout: 5 * time.Second, PrePing: true, IsolationLevel: tt.iso})
			c, err := p.Acquire(ctx) // fresh: not pinged
			if err != nil {
				t.Fatal(err)
			}
			if got := c.PgConn().PgConn().TxStatus(); got != 'I' {
				t.Errorf("a fresh checkout is in transaction status %q, want 'I'", got)
			}
			if err := c.Exec(ctx, "SELECT $1::int", 1); err != nil {
				t.Fatal(err)
			}
			if got := c.PgConn().PgConn().TxStatus(); got != tt.wantTx {
				t.Errorf("after the first statement: transaction status %q, want %q", got, tt.wantTx)
			}
			var iso string
			if err := c.PgConn().QueryRow(ctx, "SHOW transaction_isolation").Scan(&iso); err != nil {
				t.Fatal(err)
			}
			if iso != tt.wantIso {
				t.Errorf("transaction_isolation %q, want %q", iso, tt.wantIso)
			}
			p.Release(c)

			c, err = p.Acquire(ctx) // pinged: the ping is the first statement
			if err != nil {
				t.Fatal(err)
			}
			if got := c.PgConn().PgConn().TxStatus(); got != tt.wantTx {
				t.Errorf("after the pre-ping: transaction status %q, want %q (reset on return, then begun by the ping)", got, tt.wantTx)
			}
			if since := time.Since(c.CheckedOut()); since < 0 || since > 5*time.Second {
				t.Errorf("CheckedOut %s ago", since)
			}
			if err := c.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.Exec(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
			if err := c.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if got := c.PgConn().PgConn().TxStatus(); got != 'I' {
				t.Errorf("after Commit: transaction status %q, want 'I'", got)
			}
			p.Release(c)
			if st := p.Stats(); st.ClosedBroken != 0 || st.Opened != 1 {
				t.Errorf("ClosedBroken %d, Opened %d: want 0, 1", st.ClosedBroken, st.Opened)
			}
		})
	}
}

// TestPreparedOnFirstUse: a statement without arguments is prepared on its
// first use on a connection and reused after, as asyncpg does (pgx's Exec
// would send it with the simple protocol); so is the pre-ping.
func TestPreparedOnFirstUse(t *testing.T) {
	dsn := localpgtest.DSN(t)
	ctx := context.Background()
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 1, Timeout: 5 * time.Second, PrePing: true})
	for range 3 {
		c, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Exec(ctx, "SELECT 41+1"); err != nil {
			t.Fatal(err)
		}
		p.Release(c)
	}
	c, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(c)
	rows, err := c.PgConn().Query(ctx, "SELECT statement FROM pg_prepared_statements ORDER BY statement", pgxSimple)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "SELECT 1|SELECT 41+1" {
		t.Errorf("prepared statements %q, want the pre-ping and the statement, once each", got)
	}
}

// pgxSimple runs a test's own query with the simple protocol, so that it
// is not prepared itself.
const pgxSimple = pgx.QueryExecModeSimpleProtocol
