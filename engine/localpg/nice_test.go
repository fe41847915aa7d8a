package localpg_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg"
)

// niceOf is pid's nice value: field 19 of /proc/PID/stat where there is a
// /proc, else getpriority.
func niceOf(t *testing.T, pid int) int {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if _, noProc := os.Stat("/proc/self/stat"); noProc == nil {
			t.Fatalf("read the stat of pid %d: %v", pid, err)
		}
		prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, pid)
		if err != nil {
			t.Fatalf("getpriority(%d): %v", pid, err)
		}
		return localpg.Niceness(prio)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count the fields after its closing one, which is field 3.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	fields := strings.Fields(rest)
	n, err := strconv.Atoi(fields[19-3])
	if err != nil {
		t.Fatalf("pid %d: nice field %q: %v", pid, fields[19-3], err)
	}
	return n
}

// TestServerNiceness: the postmaster and a backend it forked run
// ServerNiceness below the process that started them, before and after a
// restart.
func TestServerNiceness(t *testing.T) {
	want := min(niceOf(t, os.Getpid())+localpg.ServerNiceness, 19)
	srv := startServer(t)
	check := func(when string) {
		t.Helper()
		pm := srv.PID()
		if got := niceOf(t, pm); got != want {
			t.Errorf("%s: postmaster (pid %d) nice %d, want %d", when, pm, got, want)
		}
		conn, err := connect(srv.DSN())
		if err != nil {
			t.Fatalf("%s: connect: %v", when, err)
		}
		defer conn.Close(context.Background())
		var backend int
		if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&backend); err != nil {
			t.Fatalf("%s: SELECT pg_backend_pid(): %v", when, err)
		}
		got := niceOf(t, backend)
		if got != want {
			t.Errorf("%s: backend (pid %d) nice %d, want %d", when, backend, got, want)
		}
		t.Logf("%s: planrun nice %d; postmaster %d and backend %d nice %d", when, want-localpg.ServerNiceness, pm, backend, got)
	}
	check("started")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	check("restarted")
}
