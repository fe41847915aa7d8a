package localpg_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg"
)

// restartResult is what a Restart run in the background returned.
type restartResult struct {
	unreachable time.Duration
	err         error
	returned    time.Time
}

// restartInBackground calls srv.Restart(ctx, down) on its own goroutine.
func restartInBackground(ctx context.Context, srv *localpg.Server, down time.Duration) <-chan restartResult {
	done := make(chan restartResult, 1)
	go func() {
		d, err := srv.Restart(ctx, down)
		done <- restartResult{d, err, time.Now()}
	}()
	return done
}

// startServer starts a server that the test stops at its end.
func startServer(t *testing.T) *localpg.Server {
	t.Helper()
	srv, err := localpg.Start(context.Background(), localpg.Options{MaxConnections: 20, Logf: t.Logf})
	if err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// connect opens a connection to dsn, bounded by a generous timeout.
func connect(dsn string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.Connect(ctx, dsn)
}

// waitDown waits until the server's port refuses connections, which
// happens once its postmaster has exited.
func waitDown(t *testing.T, srv *localpg.Server) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(srv.Port())
	// Not a timing assertion: a generous bound so a broken build cannot hang.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		if c != nil {
			c.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("port %s never refused connections", addr)
}

// postmastersOf returns the pids of the processes started with dataDir on
// their command line, read from /proc, leaving out those whose parent is
// one too: a postmaster's children rename themselves, but a child forked
// a moment ago, which a busy machine (or the server's lower priority) has
// not run yet, still bears its parent's command line. The test is skipped
// where there is no /proc.
func postmastersOf(t *testing.T, dataDir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to list processes: %v", err)
	}
	parents := map[int]int{} // pid → parent pid, of the processes with dataDir
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Field 4 is the parent; the command name (field 2) is in
		// parentheses and may hold spaces.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		ppid, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("/proc/%d/stat: parent %q: %v", pid, fields[1], err)
		}
		for arg := range strings.SplitSeq(string(cmdline), "\x00") {
			if arg == dataDir {
				parents[pid] = ppid
				break
			}
		}
	}
	var pids []int
	for pid, ppid := range parents {
		if _, forked := parents[ppid]; !forked {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// groupGone reports whether no process is left in the process group of
// pid (a postmaster leads its group, its children are in it), waiting a
// generous while for children that outlive their postmaster for a moment.
func groupGone(pid int) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestRestart(t *testing.T) {
	const down = 500 * time.Millisecond
	srv := startServer(t)
	ctx := context.Background()
	dsn, dataDir, oldPID := srv.DSN(), srv.DataDir(), srv.PID()
	if got := postmastersOf(t, dataDir); len(got) != 1 || got[0] != oldPID {
		t.Fatalf("postmasters of %s = %v, want [%d] (PID())", dataDir, got, oldPID)
	}

	conn, err := connect(dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatalf("create table: %v", err)
	}

	// Connect over and over while the server restarts: some attempts
	// must be refused (the server is down, nothing listens).
	done := restartInBackground(ctx, srv, down)
	var res restartResult
	var refused int
	var firstRefused, lastRefused time.Time
poll:
	for {
		select {
		case res = <-done:
			break poll
		default:
		}
		c, err := connect(dsn)
		switch {
		case err == nil:
			_ = c.Close(ctx)
		case errors.Is(err, syscall.ECONNREFUSED):
			if refused == 0 {
				firstRefused = time.Now()
			}
			refused++
			lastRefused = time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res.err != nil {
		t.Fatalf("Restart() error = %v", res.err)
	}
	t.Logf("Restart(%s): unreachable for %s; %d connects refused over %s",
		down, res.unreachable.Round(time.Millisecond), refused, lastRefused.Sub(firstRefused).Round(time.Millisecond))
	if refused == 0 {
		t.Errorf("no connect was refused during the restart")
	}
	if res.unreachable < down {
		t.Errorf("Restart() = %s unreachable, want at least the down period %s", res.unreachable, down)
	}

	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Errorf("a connection opened before the restart still works after it")
	}
	if srv.DSN() != dsn {
		t.Errorf("DSN() = %q after restart, was %q", srv.DSN(), dsn)
	}
	newPID := srv.PID()
	if newPID == oldPID || newPID == 0 {
		t.Errorf("PID() = %d after restart, was %d", newPID, oldPID)
	}
	if !processGone(oldPID) {
		t.Errorf("old postmaster pid %d still exists", oldPID)
	}
	if got := postmastersOf(t, dataDir); len(got) != 1 || got[0] != newPID {
		t.Errorf("postmasters of %s after restart = %v, want [%d] (PID())", dataDir, got, newPID)
	}

	after, err := connect(dsn)
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	defer after.Close(ctx)
	var v int
	if err := after.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Errorf("SELECT v FROM kept after restart = %d, %v; want 42", v, err)
	}

	// A second restart works just as well (the log is appended to, the
	// current postmaster replaced again).
	d, err := srv.Restart(ctx, 0)
	if err != nil {
		t.Fatalf("second Restart() error = %v", err)
	}
	t.Logf("Restart(0): unreachable for %s", d.Round(time.Millisecond))
	thirdPID := srv.PID()
	if thirdPID == newPID || thirdPID == 0 {
		t.Errorf("PID() = %d after the second restart, was %d", thirdPID, newPID)
	}

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop() error = %v", err)
	}
	if !groupGone(thirdPID) {
		t.Errorf("processes of postmaster %d still exist after Stop", thirdPID)
	}
	if got := postmastersOf(t, dataDir); len(got) != 0 {
		t.Errorf("postmasters %v still run after Stop", got)
	}
	if _, err := srv.Restart(ctx, 0); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("Restart() after Stop error = %v, want one saying the server is stopped", err)
	}
}

func TestRestartInterrupted(t *testing.T) {
	tests := []struct {
		name      string
		down      time.Duration
		thenSleep time.Duration // after the server is down, before the cancel
	}{
		// A down period no test would wait out: the cancel must cut it short.
		{name: "cancel in the down period", down: 10 * time.Minute},
		// Usually lands while postgres starts again.
		{name: "cancel after the down period", down: 20 * time.Millisecond, thenSleep: 40 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			began := time.Now()
			done := restartInBackground(ctx, srv, tt.down)
			waitDown(t, srv)
			time.Sleep(tt.thenSleep)
			cancelled := time.Now()
			cancel()
			res := <-done
			took := res.returned.Sub(began)
			t.Logf("Restart() returned after %s (%s after the cancel): %v",
				took.Round(time.Millisecond), res.returned.Sub(cancelled).Round(time.Millisecond), res.err)
			switch {
			case res.returned.Before(cancelled):
				t.Logf("the restart was over before the cancel")
			case !errors.Is(res.err, context.Canceled):
				t.Errorf("Restart() error = %v, want context.Canceled", res.err)
			}
			if took >= tt.down && tt.down > time.Minute {
				t.Errorf("Restart() returned after %s, not cut short", took)
			}
			// The server is up again, ready for a teardown.
			conn, err := connect(srv.DSN())
			if err != nil {
				t.Fatalf("connect after an interrupted restart: %v", err)
			}
			_ = conn.Close(context.Background())
		})
	}
}

func TestRestartStoppedMeanwhile(t *testing.T) {
	tests := []struct {
		name      string
		down      time.Duration
		waitDown  bool          // Stop once the server is down, else at once
		thenSleep time.Duration // and after this
	}{
		{name: "stop in the down period", down: 10 * time.Minute, waitDown: true},
		// Usually lands while postgres starts again; any landing must clean up.
		{name: "stop after the down period", down: 20 * time.Millisecond, waitDown: true, thenSleep: 60 * time.Millisecond},
		{name: "stop racing the restart", down: 0, waitDown: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t)
			dataDir, oldPID := srv.DataDir(), srv.PID()
			done := restartInBackground(context.Background(), srv, tt.down)
			if tt.waitDown {
				waitDown(t, srv)
			}
			time.Sleep(tt.thenSleep)
			if err := srv.Stop(); err != nil {
				t.Errorf("Stop() error = %v", err)
			}
			res := <-done
			t.Logf("Restart() returned %s, %v", res.unreachable.Round(time.Millisecond), res.err)
			if tt.down > time.Minute && (res.err == nil || !strings.Contains(res.err.Error(), "stopped")) {
				t.Errorf("Restart() error = %v, want one saying the server was stopped", res.err)
			}
			// Whichever way the race went, nothing is left.
			if !groupGone(oldPID) {
				t.Errorf("processes of postmaster %d still exist after Stop", oldPID)
			}
			if pid := srv.PID(); pid != 0 && !groupGone(pid) {
				t.Errorf("processes of postmaster %d still exist after Stop", pid)
			}
			if got := postmastersOf(t, dataDir); len(got) != 0 {
				t.Errorf("postmasters %v still run after Stop", got)
			}
			if _, err := os.Stat(filepath.Dir(dataDir)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temp dir still there after Stop: %v", err)
			}
		})
	}
}

func TestRestartCancelledBefore(t *testing.T) {
	srv := startServer(t)
	pid := srv.PID()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := srv.Restart(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Restart() with an ended ctx error = %v, want context.Canceled", err)
	}
	if srv.PID() != pid || processGone(pid) {
		t.Errorf("Restart() with an ended ctx touched the server: PID() = %d, was %d", srv.PID(), pid)
	}
}

func TestRestartPortTaken(t *testing.T) {
	srv := startServer(t)
	dataDir := srv.DataDir()
	addr := "127.0.0.1:" + strconv.Itoa(srv.Port())

	done := restartInBackground(context.Background(), srv, 2*time.Second)
	// Take the port as soon as the server has let it go.
	var squatter net.Listener
	deadline := time.Now().Add(30 * time.Second)
	for squatter == nil && time.Now().Before(deadline) {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			squatter = l
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if squatter == nil {
		t.Fatalf("port %s never became free", addr)
	}
	defer squatter.Close()

	res := <-done
	t.Logf("Restart() error: %v", res.err)
	if res.err == nil {
		t.Fatal("Restart() succeeded with its port taken")
	}
	for _, want := range []string{"took port " + strconv.Itoa(srv.Port()), "could not bind"} {
		if !strings.Contains(res.err.Error(), want) {
			t.Errorf("Restart() error does not say %q", want)
		}
	}
	if pid := srv.PID(); pid != 0 {
		t.Errorf("PID() = %d after a failed restart, want 0", pid)
	}
	if _, err := srv.Restart(context.Background(), 0); err == nil {
		t.Errorf("Restart() of a server whose restart failed succeeded")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop() error = %v", err)
	}
	if got := postmastersOf(t, dataDir); len(got) != 0 {
		t.Errorf("postmasters %v still run after Stop", got)
	}
}
