package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
)

// TestInterruptDuringExpression runs the binary on a plan whose every arg
// spins for a minute in the expr VM, which nothing can interrupt, and sends
// SIGINT as soon as the scenario starts: the process ends within seconds
// (not after the minute, nor after the drain's 40 s), with exit 4, a report
// and teardown run.
func TestInterruptDuringExpression(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dsn := localpgtest.DSN(t)
	conn := db(t)
	resetMarker(t, conn, "interrupt_expr")
	out := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, plan("interrupt_expr"), "--out", out, "--format", "table")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Signal once the scenario's first progress line shows both users
	// active: they evaluate their args as they start, so they are then
	// inside the expression (the "scenario long:" line comes before they
	// start, and a signal then finds none of them there).
	started := make(chan struct{})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pipe)
		seen := false
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if !seen && strings.HasPrefix(sc.Text(), "long ") && strings.Contains(sc.Text(), "users 2/2") {
				close(started)
				seen = true
			}
		}
		_, _ = io.Copy(&stderr, pipe)
	}()
	select {
	case <-started:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-copied
		t.Fatalf("the scenario did not start within a minute; stderr:\n%s", stderr.String())
	}
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-copied
	err = cmd.Wait()
	took := time.Since(signalled)
	r := result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), wall: took}
	if err != nil && r.code < 0 {
		t.Fatalf("wait: %v\n%s", err, r)
	}
	t.Logf("SIGINT to exit: %s", took.Round(time.Millisecond))
	// Generous for a busy machine, far below the minute the expressions
	// spin and the 40 s a drain would wait for them.
	if took > 15*time.Second {
		t.Errorf("the process took %s to end after SIGINT", took)
	}
	if r.code != ExitAborted {
		t.Fatalf("want exit %d, got %s", ExitAborted, r)
	}
	jsons, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(jsons) != 1 {
		t.Fatalf("want one JSON report in --out, got %v\n%s", jsons, r)
	}
	run, err := results.ReadFile(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != results.StatusInterrupted || len(run.Scenarios) != 1 {
		t.Fatalf("status %q with %d scenarios, want %q with 1", run.Status, len(run.Scenarios), results.StatusInterrupted)
	}
	sc := run.Scenarios[0]
	// The users are abandoned in the expression: cancelled by the
	// interrupt, or, on a machine slow enough that the signal came after
	// the 1 s budget, args errors.
	t.Logf("scenario: %d cancelled, %d ops, errors by category %v", sc.Cancelled, sc.Ops, sc.ErrorsBy)
	if sc.Cancelled+sc.ErrorsBy[results.ErrArgs] < 1 {
		t.Errorf("cancelled %d, errors %v: the users stuck in the expression are not accounted for", sc.Cancelled, sc.ErrorsBy)
	}
	if tableExists(t, conn, "planrun_cli_interrupt_expr") || markers(t, conn, "interrupt_expr") != 1 {
		t.Errorf("teardown did not run after SIGINT: table exists %v, %d marker rows\n%s",
			tableExists(t, conn, "planrun_cli_interrupt_expr"), markers(t, conn, "interrupt_expr"), r)
	}
}
