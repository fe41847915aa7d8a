package preflight_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg"
)

// devDSN is the shared development server, used when
// PLANRUN_TEST_DATABASE_URL is not set.
// TODO: switch to internal/pgtest once it lands.
const devDSN = "postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable"

// testDSN returns the database the ordinary tests use.
func testDSN(t *testing.T) string {
	t.Helper()
	if dsn := os.Getenv("PLANRUN_TEST_DATABASE_URL"); dsn != "" {
		return dsn
	}
	return devDSN
}

// startServer starts a throwaway server of its own, for tests that need
// special settings (few connection slots, password authentication).
func startServer(t *testing.T, maxConns int) *localpg.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := localpg.Start(ctx, localpg.Options{MaxConnections: maxConns, Logf: t.Logf})
	if err != nil {
		t.Fatalf("start local server: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop local server: %v", err)
		}
	})
	return s
}
