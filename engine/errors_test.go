package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/results"
)

// TestClassifyArgsMismatch runs statements whose args do not fit their
// parameters on a real connection, the way users run them (Exec in pgx's
// default mode), and checks that each failure is an `args` error, not
// `other` or `broken`.
func TestClassifyArgsMismatch(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	cases := []struct {
		name      string
		run       func() error
		wantState string
	}{
		{"fewer args than parameters", func() error {
			_, err := conn.Exec(ctx, "SELECT $1::int + $2::int", 1)
			return err
		}, ""},
		{"more args than parameters", func() error {
			_, err := conn.Exec(ctx, "SELECT 1", 1)
			return err
		}, ""},
		{"parameter without args (simple protocol)", func() error {
			_, err := conn.Exec(ctx, "SELECT $1::int")
			return err
		}, "42P02"},
		{"query with fewer args", func() error {
			rows, err := conn.Query(ctx, "SELECT $1::int, $2::int", 1)
			if err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		}, ""},
		{"value that does not fit the parameter's type", func() error {
			_, err := conn.Exec(ctx, "SELECT $1::int", struct{ X int }{1})
			return err
		}, ""},
		{"bind without describe", func() error {
			_, err := conn.Exec(ctx, "SELECT $1::int, $2::int", pgx.QueryExecModeExec, 1)
			return err
		}, "08P01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil {
				t.Fatal("no error")
			}
			cat, state := classify(err)
			t.Logf("%v → %s %s", err, cat, state)
			if cat != results.ErrArgs || state != c.wantState {
				t.Errorf("classify(%q) = %s %q, want %s %q", err, cat, state, results.ErrArgs, c.wantState)
			}
			// The connection is still usable: these are not broken connections.
			if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
				t.Fatalf("connection unusable after the mismatch: %v", err)
			}
		})
	}
}

// TestClassify covers the categories without a server.
func TestClassify(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		wantCat   string
		wantState string
	}{
		{"pool timeout", fmt.Errorf("acquire: %w", pool.ErrTimeout), results.ErrAcquireTimeout, ""},
		{"args expression", fmt.Errorf("%w: boom", errArgs), results.ErrArgs, ""},
		{"exec count mismatch", errors.New("mismatched param and argument count"), results.ErrArgs, ""},
		{"query count mismatch", errors.New("expected 2 arguments, got 1"), results.ErrArgs, ""},
		{"encode", errors.New("failed to encode args[0]: unable to encode"), results.ErrArgs, ""},
		{"undefined parameter", &pgconn.PgError{Code: "42P02", Message: "there is no parameter $1"}, results.ErrArgs, "42P02"},
		{"bind mismatch", &pgconn.PgError{Code: "08P01", Message: `bind message supplies 1 parameters, but prepared statement "" requires 2`}, results.ErrArgs, "08P01"},
		{"other protocol violation", &pgconn.PgError{Code: "08P01", Message: "invalid message format"}, results.ErrBroken, "08P01"},
		{"query error", &pgconn.PgError{Code: "22012", Message: "division by zero"}, results.ErrQuery, "22012"},
		{"terminated", &pgconn.PgError{Code: "57P01"}, results.ErrBroken, "57P01"},
		{"cancelled", context.Canceled, results.ErrCancelled, ""},
		{"eof", fmt.Errorf("read: %w", io.EOF), results.ErrBroken, ""},
		{"something else", errors.New("expected a miracle"), results.ErrOther, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat, state := classify(c.err)
			if cat != c.wantCat || state != c.wantState {
				t.Errorf("classify(%v) = %s %q, want %s %q", c.err, cat, state, c.wantCat, c.wantState)
			}
		})
	}
}
