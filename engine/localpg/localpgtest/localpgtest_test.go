package localpgtest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

func TestDSN(t *testing.T) {
	dsn := localpgtest.DSN(t)
	if url := os.Getenv(localpgtest.EnvDatabaseURL); url != "" && dsn != url {
		t.Errorf("DSN() = %q, want %s = %q", dsn, localpgtest.EnvDatabaseURL, url)
	}
	if again := localpgtest.DSN(t); again != dsn {
		t.Errorf("second DSN() = %q, want the same server %q", again, dsn)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to DSN(): %v", err)
	}
	defer conn.Close(ctx)

	tests := []struct {
		name  string
		query string
		check func(t *testing.T, got string)
	}{
		{name: "select 1", query: "SELECT 1::text", check: func(t *testing.T, got string) {
			if got != "1" {
				t.Errorf("got %q, want 1", got)
			}
		}},
		{name: "version matches server", query: "SHOW server_version", check: func(t *testing.T, got string) {
			v := localpgtest.Version(t)
			if v == "" || strings.Contains(v, " ") || !strings.HasPrefix(got, v) {
				t.Errorf("Version() = %q, server says %q", v, got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := conn.QueryRow(ctx, tt.query).Scan(&got); err != nil {
				t.Fatalf("%s: %v", tt.query, err)
			}
			tt.check(t, got)
		})
	}
}
