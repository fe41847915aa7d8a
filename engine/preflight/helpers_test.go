package preflight_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// testDSN returns the database the ordinary tests use:
// PLANRUN_TEST_DATABASE_URL, or a throwaway server shared by the package.
func testDSN(t *testing.T) string {
	t.Helper()
	return localpgtest.DSN(t)
}

// startServer starts a throwaway server of its own, for tests that need
// special settings (few connection slots, password authentication).
func startServer(t *testing.T, maxConns int) *localpg.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := localpg.Start(ctx, localpg.Options{MaxConnections: maxConns})
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
