// Tests of the reference service (app.py) against a real PostgreSQL: the
// ground truth the service-under-test runs rest on. Its pool must time out
// as SQLAlchemy's does, hold at most size + max_overflow backends, and leak
// a connection where /leak says it does.
package service_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	svc "github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/internal/pystack"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// The pool every test's service runs: 2 + 2 connections, 1 s timeout.
const (
	poolSize, poolOverflow = 2, 2
	poolTimeout            = time.Second
)

// service is a running reference service.
type service struct {
	base, app string
}

// startService starts app.py under uvicorn with planrun's own starter
// (engine/service: a free port, readiness on /healthz, the log in a file),
// the test pool, its backends named app, and stops it when the test ends.
func startService(t *testing.T, app string) *service {
	t.Helper()
	python, err := pystack.Find(pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dsn, err := url.Parse(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := dsn.Query()
	q.Set("application_name", app)
	dsn.RawQuery = q.Encode()

	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Start(context.Background(), svc.Spec{
		Start: []string{python, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", svc.PortPlaceholder},
		Dir:   dir,
		Env: map[string]string{"ACCOUNTS": "100", "POOL_SIZE": fmt.Sprint(poolSize),
			"POOL_MAX_OVERFLOW": fmt.Sprint(poolOverflow), "POOL_TIMEOUT": fmt.Sprint(int(poolTimeout.Seconds()))},
		DatabaseURL: dsn.String(),
		LogPath:     filepath.Join(t.TempDir(), "service.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return &service{base: p.URL(), app: app}
}

// call sends one request and returns its status (0 when it could not be
// sent), body and duration.
func (s *service) call(t *testing.T, method, path, body string) (int, string, time.Duration) {
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error(), time.Since(start)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// backend is one of the service's server connections, as the server sees it.
type backend struct{ state, query string }

// backends lists the service's backends in pg_stat_activity.
func (s *service) backends(t *testing.T, conn *pgx.Conn) []backend {
	rows, err := conn.Query(context.Background(), `SELECT coalesce(state, ''), query FROM pg_stat_activity WHERE application_name = $1`, s.app)
	if err != nil {
		t.Fatal(err)
	}
	var out []backend
	for rows.Next() {
		var b backend
		if err := rows.Scan(&b.state, &b.query); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func monitor(t *testing.T) *pgx.Conn {
	conn, err := pgx.Connect(context.Background(), localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestReferenceService checks the service's behaviour that later runs
// measure: its pool's bound and timeout as the server sees them, a leak,
// and a transfer's transaction.
func TestReferenceService(t *testing.T) {
	s := startService(t, "refsvc-test")
	mon := monitor(t)

	t.Run("a transfer moves money in one transaction", func(t *testing.T) {
		total := func() int64 {
			var n int64
			if err := mon.QueryRow(context.Background(), `SELECT sum(balance) FROM planrun_accounts`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := total()
		code, body, _ := s.call(t, http.MethodPost, "/transfers", `{"from": 3, "to": 4, "amount": 25}`)
		if code != http.StatusOK || !strings.Contains(body, `"moved":25`) {
			t.Fatalf("POST /transfers: %d %s", code, body)
		}
		var b3, b4 int64
		if err := mon.QueryRow(context.Background(), `SELECT (SELECT balance FROM planrun_accounts WHERE id = 3), (SELECT balance FROM planrun_accounts WHERE id = 4)`).Scan(&b3, &b4); err != nil {
			t.Fatal(err)
		}
		if b4-b3 != 50 || total() != before {
			t.Fatalf("after moving 25 from 3 to 4: balances %d and %d (want 50 apart), total %d → %d (want unchanged)", b3, b4, before, total())
		}
		if code, body, _ := s.call(t, http.MethodPost, "/transfers", `{"from": 3, "to": 100000, "amount": 1}`); code != http.StatusNotFound {
			t.Fatalf("a transfer to a missing account: %d %s, want 404", code, body)
		}
	})

	t.Run("a pool of 2 + 2 holds at most 4 backends and times out after 1s with a 503", func(t *testing.T) {
		const requests, hold = poolSize + poolOverflow + 1, 3 * time.Second
		type answer struct {
			code int
			body string
			took time.Duration
		}
		answers := make(chan answer, requests)
		var wg sync.WaitGroup
		for range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body, took := s.call(t, http.MethodGet, fmt.Sprintf("/report?hold_ms=%d", hold.Milliseconds()), "")
				answers <- answer{code, body, took}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		most := 0
	sample:
		for {
			most = max(most, len(s.backends(t, mon)))
			select {
			case <-done:
				break sample
			case <-time.After(50 * time.Millisecond):
			}
		}
		close(answers)
		var ok, timedOut int
		for a := range answers {
			switch {
			case a.code == http.StatusOK:
				ok++
			case a.code == http.StatusServiceUnavailable:
				timedOut++
				if !strings.Contains(a.body, fmt.Sprintf("QueuePool limit of size %d overflow %d reached", poolSize, poolOverflow)) {
					t.Errorf("the 503's body is %q, want SQLAlchemy's TimeoutError", a.body)
				}
				if a.took < poolTimeout {
					t.Errorf("the 503 came after %s, before the pool timeout %s", a.took, poolTimeout)
				}
				if a.took >= hold {
					t.Errorf("the 503 came after %s: it waited for a connection to come back (hold %s), not for the timeout", a.took, hold)
				}
			default:
				t.Errorf("GET /report: %d %s", a.code, a.body)
			}
		}
		if ok != poolSize+poolOverflow || timedOut != 1 {
			t.Errorf("%d answers 200 and %d answers 503, want %d and 1", ok, timedOut, poolSize+poolOverflow)
		}
		if most > poolSize+poolOverflow {
			t.Errorf("the server saw %d backends of the service, more than size + max_overflow = %d", most, poolSize+poolOverflow)
		}
		if most < poolSize+poolOverflow {
			t.Errorf("the server saw at most %d backends of the service while %d requests held one each", most, poolSize+poolOverflow)
		}
	})

	t.Run("a leaked connection stays idle in transaction with its query", func(t *testing.T) {
		const leaks = 3
		for i := 1; i <= leaks; i++ {
			if code, body, _ := s.call(t, http.MethodPost, "/leak", ""); code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"leaked":%d`, i)) {
				t.Fatalf("POST /leak #%d: %d %s", i, code, body)
			}
		}
		var held []string
		for _, b := range s.backends(t, mon) {
			if b.state == "idle in transaction" && strings.HasPrefix(b.query, "SELECT 'planrun-leak'") {
				held = append(held, b.query)
			}
		}
		if len(held) != leaks {
			t.Fatalf("the server shows %d backends idle in transaction with a leak's query (%q), want %d", len(held), held, leaks)
		}
		code, body, _ := s.call(t, http.MethodGet, "/pool", "")
		if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"checked_out":%d`, leaks)) {
			t.Fatalf("GET /pool after %d leaks: %d %s", leaks, code, body)
		}
	})
}
