package servicewatch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	svc "github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/engine/servicewatch"
	"github.com/planrun/planrun/internal/pystack"
)

// The reference service's pool in these tests: 2 + 2.
const servicePool, serviceOverflow = 2, 2

// service is a running reference service (examples/service/app.py).
type service struct{ base string }

// startService starts the reference service under uvicorn with the
// engine's own starter (engine/service), its backends named app, and stops
// it when the test ends. Without the Python stack it
// skips, unless CI is set.
func startService(t *testing.T, app string) *service {
	t.Helper()
	python, err := pystack.Find(pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "service"))
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := url.Parse(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := dsn.Query()
	q.Set("application_name", app)
	dsn.RawQuery = q.Encode()
	p, err := svc.Start(context.Background(), svc.Spec{
		Start:       []string{python, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", svc.PortPlaceholder},
		Dir:         dir,
		Env:         map[string]string{"ACCOUNTS": "100", "POOL_SIZE": fmt.Sprint(servicePool), "POOL_MAX_OVERFLOW": fmt.Sprint(serviceOverflow), "POOL_TIMEOUT": "5"},
		DatabaseURL: dsn.String(),
		LogPath:     filepath.Join(t.TempDir(), "service.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return &service{base: p.URL()}
}

// call sends one request and returns its status (0 when it could not be
// sent) and body.
func (s *service) call(t *testing.T, method, path string) (int, string) {
	req, err := http.NewRequest(method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReferenceService watches the reference service's own pool: a slow
// transaction past the leak threshold is a held leak, and connections
// /leak never returns are unreleased leaks after the drain, each with its
// query. (One service for both: the slow transaction first, since the
// leaks stay until the service stops.)
func TestReferenceService(t *testing.T) {
	const app = "svcwatch-refsvc"
	s := startService(t, app)
	ctx := context.Background()
	watch := func(t *testing.T, threshold time.Duration) *servicewatch.Watcher {
		var got samples
		w, err := servicewatch.Start(ctx, connect(t, ""), servicewatch.Config{ApplicationName: app,
			Capacity: servicePool + serviceOverflow, LeakThreshold: threshold, OnSample: got.add})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		waitFor(t, "a first sample", func() bool { return got.len() > 0 })
		if err := w.Found(); err != nil { // /healthz left a connection in the pool
			t.Fatalf("Found: %v", err)
		}
		return w
	}

	t.Run("a slow transaction past the threshold is one held leak", func(t *testing.T) {
		const threshold = time.Second
		w := watch(t, threshold)
		start := time.Now()
		if code, body := s.call(t, http.MethodPost, "/slow-transaction?seconds=2"); code != http.StatusOK {
			t.Fatalf("POST /slow-transaction: %d %s", code, body)
		}
		took := time.Since(start)
		if err := w.Drained(ctx, servicewatch.DefaultDrainGrace); err != nil {
			t.Fatal(err)
		}
		sum := w.Summary()
		t.Logf("the call took %s; idle in transaction max %s; in use max %d, utilization max %.2f; %d samples; leaks %d %+v",
			took, sum.IdleInTransaction.Max, sum.InUse.Max, sum.Utilization.Max, sum.Samples, sum.Leaks, sum.LeakDetails)
		if sum.IdleInTransaction.Max < threshold || sum.IdleInTransaction.Max > took {
			t.Errorf("idle in transaction max %s, want between the threshold %s and the call's %s", sum.IdleInTransaction.Max, threshold, took)
		}
		if sum.Leaks != 1 || len(sum.LeakDetails) != 1 {
			t.Fatalf("%d leaks %+v, want 1", sum.Leaks, sum.LeakDetails)
		}
		l := sum.LeakDetails[0]
		if l.Kind != servicewatch.KindHeld || l.Query != "SELECT 'planrun-slow-transaction'" || l.Age < threshold || l.Age > took {
			t.Errorf("leak %+v: want held, SELECT 'planrun-slow-transaction', age between %s and %s", l, threshold, took)
		}
		if sum.InUse.Max != 1 || sum.Utilization.Max != 1.0/(servicePool+serviceOverflow) {
			t.Errorf("in use max %d, utilization max %v: want 1 and 1/%d", sum.InUse.Max, sum.Utilization.Max, servicePool+serviceOverflow)
		}
	})

	t.Run("connections /leak never returns are unreleased leaks after the drain", func(t *testing.T) {
		const leaks = 3
		w := watch(t, 0)
		var callStart, callEnd [leaks + 1]time.Time
		for i := 1; i <= leaks; i++ {
			callStart[i] = time.Now()
			if code, body := s.call(t, http.MethodPost, "/leak"); code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"leaked":%d`, i)) {
				t.Fatalf("POST /leak #%d: %d %s", i, code, body)
			}
			callEnd[i] = time.Now()
		}
		drainStart := time.Now()
		if err := w.Drained(ctx, servicewatch.DefaultDrainGrace); err != nil {
			t.Fatal(err)
		}
		drainEnd := time.Now()
		sum := w.Summary()
		t.Logf("leaks %d: %+v", sum.Leaks, sum.LeakDetails)
		if sum.Leaks != leaks || len(sum.LeakDetails) != leaks || !sum.DrainChecked {
			t.Fatalf("%d leaks (drain checked %v) %+v, want %d", sum.Leaks, sum.DrainChecked, sum.LeakDetails, leaks)
		}
		seen := map[int]bool{}
		for _, l := range sum.LeakDetails {
			var n int
			if _, err := fmt.Sscanf(l.Query, "SELECT 'planrun-leak', %d", &n); err != nil || n < 1 || n > leaks || seen[n] {
				t.Errorf("leak %+v: want the query of one of the %d leaks, once", l, leaks)
				continue
			}
			seen[n] = true
			// Idle in transaction since its statement ended, within the
			// call; seen after the drain began. 1 ms for the two clocks.
			low, high := drainStart.Sub(callEnd[n])-time.Millisecond, drainEnd.Sub(callStart[n])
			if l.Kind != servicewatch.KindUnreleased || l.State != "idle in transaction" || l.Age < low || l.Age > high {
				t.Errorf("leak %d: %+v, want unreleased, idle in transaction, age in [%s, %s]", n, l, low, high)
			}
		}
		if sum.IdleInTransaction.Max < sum.LeakDetails[0].Age {
			t.Errorf("idle in transaction max %s, below a leak's age %s", sum.IdleInTransaction.Max, sum.LeakDetails[0].Age)
		}
	})
}
