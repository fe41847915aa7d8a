// Package localpgtest gives every package's tests a real PostgreSQL server:
// the one named by PLANRUN_TEST_DATABASE_URL, or else a throwaway
// [localpg.Server] started once per test binary, on first use.
//
// Use it from TestMain so the server is stopped when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		dsn := localpgtest.DSN(t)
//		...
//	}
package localpgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg"
)

// EnvDatabaseURL names the environment variable holding the DSN of an
// existing server to test against instead of starting one.
const EnvDatabaseURL = "PLANRUN_TEST_DATABASE_URL"

// MaxConnections is the max_connections of the server localpgtest starts.
const MaxConnections = 200

// startTimeout is generous: `go test ./...` starts one server per package,
// several at once on a small machine.
const startTimeout = 2 * time.Minute

var (
	once    sync.Once
	server  *localpg.Server // nil when EnvDatabaseURL is used or Start failed
	dsn     string
	version string
	initErr error
)

// setup resolves the DSN and server version, once per process.
func setup() {
	if url := os.Getenv(EnvDatabaseURL); url != "" {
		dsn = url
		version, initErr = queryVersion(url)
		return
	}
	srv, err := localpg.Start(context.Background(), localpg.Options{
		MaxConnections: MaxConnections,
		StartTimeout:   startTimeout,
	})
	if err != nil {
		initErr = fmt.Errorf("localpgtest: start a local PostgreSQL (or set %s): %w", EnvDatabaseURL, err)
		return
	}
	server, dsn, version = srv, srv.DSN(), srv.Version()
}

// queryVersion asks the server at url for its version, e.g. "15.18".
func queryVersion(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("localpgtest: connect to %s: %w", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	v, _, _ := strings.Cut(conn.PgConn().ParameterStatus("server_version"), " ")
	return v, nil
}

// Main runs m and then stops the server DSN may have started. Use it in
// TestMain: os.Exit(localpgtest.Main(m)). A failure to stop turns a passing run
// into exit code 1.
func Main(m *testing.M) int {
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "localpgtest: stop PostgreSQL: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// DSN returns PLANRUN_TEST_DATABASE_URL when set; otherwise it starts, on
// first call in this process, a local PostgreSQL server (max_connections
// 200) and returns its DSN. When neither works it fails the test with the
// reason: it never skips. Without [Main] in TestMain the server outlives
// the tests until the process exits (on Linux it then gets SIGTERM) and its
// temp dir waits for the next start to sweep it.
func DSN(tb testing.TB) string {
	tb.Helper()
	once.Do(setup)
	if initErr != nil {
		tb.Fatal(initErr)
	}
	return dsn
}

// Version returns the version of the server DSN names, e.g. "15.18".
// It fails the test the way DSN does.
func Version(tb testing.TB) string {
	tb.Helper()
	DSN(tb)
	return version
}
