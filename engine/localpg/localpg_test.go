package localpg_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg"
)

// processGone reports whether pid no longer exists.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestStartStop(t *testing.T) {
	tests := []struct {
		name      string
		opts      localpg.Options
		wantConns string
	}{
		{name: "defaults", opts: localpg.Options{}, wantConns: "200"},
		{name: "max connections 37", opts: localpg.Options{MaxConnections: 37}, wantConns: "37"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			opts := tt.opts
			opts.Logf = t.Logf
			srv, err := localpg.Start(ctx, opts)
			if err != nil {
				t.Fatalf("Start() error = %v", err)
			}
			t.Cleanup(func() { _ = srv.Stop() })
			t.Logf("startup took %s (PostgreSQL %s)", srv.StartupDuration().Round(time.Millisecond), srv.Version())

			if !regexp.MustCompile(`^postgres://postgres@127\.0\.0\.1:\d+/postgres\?sslmode=disable$`).MatchString(srv.DSN()) {
				t.Errorf("DSN() = %q", srv.DSN())
			}
			if !strings.HasSuffix(srv.DSN(), ":"+strconv.Itoa(srv.Port())+"/postgres?sslmode=disable") {
				t.Errorf("DSN() = %q does not use Port() %d", srv.DSN(), srv.Port())
			}
			if !regexp.MustCompile(`^\d+(\.\d+)?`).MatchString(srv.Version()) || strings.Contains(srv.Version(), " ") {
				t.Errorf("Version() = %q, want like 15.18", srv.Version())
			}
			if fi, err := os.Stat(filepath.Join(srv.DataDir(), "PG_VERSION")); err != nil || fi.IsDir() {
				t.Errorf("DataDir() %q holds no PG_VERSION: %v", srv.DataDir(), err)
			}

			conn, err := pgx.Connect(ctx, srv.DSN())
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			var one int
			if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Errorf("SELECT 1 = %d, %v", one, err)
			}
			var maxConns, version string
			if err := conn.QueryRow(ctx, "SHOW max_connections").Scan(&maxConns); err != nil {
				t.Fatalf("SHOW max_connections: %v", err)
			}
			if maxConns != tt.wantConns {
				t.Errorf("max_connections = %s, want %s", maxConns, tt.wantConns)
			}
			if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
				t.Fatalf("SHOW server_version: %v", err)
			}
			if !strings.HasPrefix(version, srv.Version()) {
				t.Errorf("server_version = %q, Version() = %q", version, srv.Version())
			}
			// A connection still open must not hold up the fast shutdown.

			pid, dir := srv.PID(), filepath.Dir(srv.DataDir())
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Go(func() { errs[i] = srv.Stop() })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("concurrent Stop() #%d error = %v", i, err)
				}
			}
			if err := srv.Stop(); err != nil {
				t.Errorf("second Stop() error = %v", err)
			}
			if !processGone(pid) {
				t.Errorf("postgres pid %d still exists after Stop", pid)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temp dir %s still there after Stop: %v", dir, err)
			}
			_ = conn.Close(ctx)
		})
	}
}

// privateTempDir points TMPDIR at a fresh directory that the unprivileged
// server account can reach, so the test sees exactly what Start leaves behind.
func privateTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", dir)
	return dir
}

func TestStartFailureLeavesNothing(t *testing.T) {
	tests := []struct {
		name    string
		opts    localpg.Options
		wantErr string // in the error; "" = any error
	}{
		// max_connections is capped at 262143: the server exits at once,
		// and its log tail must be in the error.
		{name: "server rejects settings", opts: localpg.Options{MaxConnections: 1 << 30}, wantErr: "max_connections"},
		{name: "timeout before initdb", opts: localpg.Options{StartTimeout: time.Millisecond}},
		// initdb takes about a second: killed halfway, with its helpers.
		{name: "timeout during initdb", opts: localpg.Options{StartTimeout: 300 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := privateTempDir(t)
			srv, err := localpg.Start(context.Background(), tt.opts)
			if err == nil {
				_ = srv.Stop()
				t.Fatal("Start() succeeded, want an error")
			}
			t.Logf("Start() error: %v", err)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start() error does not mention %q", tt.wantErr)
			}
			left, _ := filepath.Glob(filepath.Join(tmp, "*"))
			if len(left) != 0 {
				t.Errorf("Start() left %q behind", left)
			}
		})
	}
}

func TestSweepStale(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, withLock bool) string {
		dir := filepath.Join(base, localpg.TempPrefix+name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if withLock {
			if err := os.WriteFile(filepath.Join(dir, localpg.LockName), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	stale := mk("stale", true)
	creating := mk("creating", false)
	inUse := mk("inuse", false)
	lock, err := localpg.LockDir(inUse)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	liveServer := mk("live", true)
	// A postmaster.pid naming a live process (ourselves) keeps the dir.
	pidFile := fmt.Sprintf("%d\n%s\n", os.Getpid(), filepath.Join(liveServer, "data"))
	if err := os.WriteFile(filepath.Join(liveServer, "data", "postmaster.pid"), []byte(pidFile), 0o600); err != nil {
		t.Fatal(err)
	}
	unrelated := filepath.Join(base, "something-else")
	if err := os.WriteFile(filepath.Join(base, "something-else"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	localpg.SweepStale(base, t.Logf)

	tests := []struct {
		name string
		dir  string
		want bool // still there
	}{
		{name: "unlocked dir removed", dir: stale, want: false},
		{name: "dir being created kept", dir: creating, want: true},
		{name: "locked dir kept", dir: inUse, want: true},
		{name: "dir with live postmaster kept", dir: liveServer, want: true},
		{name: "unrelated file kept", dir: unrelated, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := os.Stat(tt.dir)
			if got := err == nil; got != tt.want {
				t.Errorf("%s exists = %v, want %v (stat: %v)", tt.dir, got, tt.want, err)
			}
		})
	}
}

// TestServerDiesWithParent kills a process that started a server without
// calling Stop, and checks that the server goes too (Linux parent-death
// signal) and that the next sweep removes its directory.
func TestServerDiesWithParent(t *testing.T) {
	if os.Getenv("LOCALPG_TEST_HELPER") == "1" {
		srv, err := localpg.Start(context.Background(), localpg.Options{})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("started", srv.PID(), filepath.Dir(srv.DataDir()))
		select {} // wait to be killed
	}
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("parent-death signal is Linux only")
	}
	tmp := privateTempDir(t)

	helper := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithParent$")
	helper.Env = append(os.Environ(), "LOCALPG_TEST_HELPER=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	var pid int
	var dir string
	if _, err := fmt.Sscanf(line, "started %d %s", &pid, &dir); err != nil {
		_ = helper.Process.Kill()
		_ = helper.Wait()
		t.Fatalf("helper said %q: %v", line, err)
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	// Not a timing assertion: a generous bound so a broken build cannot hang.
	deadline := time.Now().Add(30 * time.Second)
	for !processGone(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !processGone(pid) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("postgres pid %d outlived its killed parent", pid)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("expected the killed parent's dir %s to remain until swept: %v", dir, err)
	}
	localpg.SweepStale(tmp, t.Logf)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sweep left %s: %v", dir, err)
	}
}

func BenchmarkStartStop(b *testing.B) {
	for b.Loop() {
		srv, err := localpg.Start(context.Background(), localpg.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}
