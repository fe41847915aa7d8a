package engine_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// TestServerOutageBacksOff: 20 users with no think time on a pool of 4;
// mid-run the database stops accepting connections (ALLOW_CONNECTIONS false)
// and the pool's backends are terminated, for 3 s. The users' connect
// errors stay within what the pool's backoff allows (docs/metrics.md: at
// most size + 6 + 2·T attempts, plus one error per user per pool.timeout),
// where a reconnect storm gives thousands; they say since when the server
// is unreachable; and once the database accepts connections again the run
// recovers: its last seconds run without errors.
func TestServerOutageBacksOff(t *testing.T) {
	dsn := localpgtest.DSN(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("admin connect: %v", err)
	}
	defer admin.Close(ctx)
	db := fmt.Sprintf("outage_%d_%d", os.Getpid(), appSeq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true")
		_, _ = admin.Exec(ctx, "DROP DATABASE "+db+" WITH (FORCE)")
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	u.Path = "/" + db

	const users, size, timeout, outage = 20, 4, time.Second, 3 * time.Second
	plan, err := schema.Parse(t.Name()+".yaml", []byte(fmt.Sprintf(`
version: 1
name: outage
pool: {size: %d, max_overflow: 0, timeout: %s}
mixes:
  m:
    - {name: quick, sql: SELECT 1, hold: 2ms}
scenarios:
  - {name: s, users: %d, duration: 9s}
`, size, timeout, users)), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	plan.Target.URL = u.String()
	plan.Target.ApplicationName = fmt.Sprintf("planrun-test-%d-%d", os.Getpid(), appSeq.Add(1))
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("plan does not compile:\n%v", err)
	}

	done := make(chan error, 1)
	// ended is when connections were allowed again (read after done).
	var ended time.Time
	go func() { // once the load runs: the outage
		var n int
		for deadline := time.Now().Add(20 * time.Second); n == 0; {
			if time.Now().After(deadline) {
				done <- fmt.Errorf("the load never started")
				return
			}
			time.Sleep(100 * time.Millisecond)
			_ = admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, plan.Target.ApplicationName).Scan(&n)
		}
		time.Sleep(time.Second)
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false"); err != nil {
			done <- err
			return
		}
		_, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, plan.Target.ApplicationName)
		time.Sleep(outage)
		_, err2 := admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true")
		ended = time.Now()
		if err == nil {
			err = err2
		}
		done <- err
	}()
	r := run(t, prog, engine.RunOptions{})
	if err := <-done; err != nil {
		t.Fatalf("outage: %v", err)
	}
	sc := r.Scenarios[0]
	connectErrs := sc.ErrorsBy[results.ErrConnect]
	t.Logf("ops %d, errors by category %v, sample %q", sc.Ops, sc.ErrorsBy, sc.ErrorSamples[results.ErrConnect])

	// The outage as the pool lived it is at most the 3 s plus a reconnect
	// attempt's delay (1 s at most).
	down := (outage + time.Second).Seconds()
	bound := int64(size+6) + int64(2*down) + int64(users*(down/timeout.Seconds()+1))
	if connectErrs == 0 || connectErrs > bound {
		t.Errorf("%d connect errors during a %v outage, want 1..%d", connectErrs, outage, bound)
	}
	// On a machine this run measured saturated, a connection opened just
	// after the outage can take longer than the 1 s timeout, and waiters
	// time out behind it: the outage itself still shows as connect errors.
	g := sc.Generator
	if n := sc.ErrorsBy[results.ErrAcquireTimeout]; n != 0 && !g.Saturated() {
		t.Errorf("%d acquire timeouts: the outage should show as connect errors", n)
	} else if n != 0 {
		t.Logf("%d acquire timeouts on a saturated machine (%.2f of %d cores busy): connections reopened after the outage slower than the timeout", n, g.MachineCPU, g.Cores)
	}
	if s := sc.ErrorSamples[results.ErrConnect]; !strings.Contains(s, "server unreachable since t=") {
		t.Errorf("connect error sample %q: want it to say since when the server is unreachable", s)
	}
	// Recovered: the full seconds that began a reconnect attempt's delay
	// (1 s at most) and a moment after the outage ended ran operations
	// without errors (the last point, the drain, left out). On a busy
	// machine the outage ends later in the scenario than planned.
	series := sc.Series
	if len(series) < 4 {
		t.Fatalf("series has %d points", len(series))
	}
	from := ended.Sub(sc.StartedAt) + 1500*time.Millisecond
	judged := 0
	for _, p := range series[:len(series)-1] {
		if p.T-sc.SeriesStep < from {
			continue
		}
		judged++
		if p.Ops == 0 || p.Errors != 0 {
			t.Errorf("point at %v: %d ops, %d errors; want the run recovered: operations and no errors", p.T, p.Ops, p.Errors)
		}
	}
	t.Logf("the outage ended %v into the scenario; %d full seconds after it judged", ended.Sub(sc.StartedAt).Round(time.Millisecond), judged)
	if judged == 0 {
		t.Skipf("the outage ended %v into a %v scenario on this busy machine: no full second after it to judge the recovery", ended.Sub(sc.StartedAt), sc.Elapsed)
	}
}
