package selfwatch

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestRecordWakeCountsEveryMissedMark: a wake-up 95 ms after a mark stands
// for that mark and the nine after it, late by 95, 85, …, 5 ms.
func TestRecordWakeCountsEveryMissedMark(t *testing.T) {
	h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	mark := time.Unix(1000, 0)
	next := recordWake(h, mark, mark.Add(95*time.Millisecond))
	if want := mark.Add(100 * time.Millisecond); !next.Equal(want) {
		t.Errorf("next mark %v after the mark, want 100ms", next.Sub(mark))
	}
	if h.TotalCount() != 10 {
		t.Fatalf("%d marks recorded, want 10", h.TotalCount())
	}
	if got := time.Duration(h.Max()) * time.Microsecond; got < 94*time.Millisecond || got > 96*time.Millisecond {
		t.Errorf("max lateness %v, want 95ms", got)
	}
	if got := time.Duration(h.Min()) * time.Microsecond; got < 4900*time.Microsecond || got > 5100*time.Microsecond {
		t.Errorf("min lateness %v, want 5ms", got)
	}
	// On time: one mark, lateness 0 recorded as 1 µs.
	next = recordWake(h, next, next)
	if h.TotalCount() != 11 || h.Min() != 1 {
		t.Errorf("an on-time wake-up: count %d, min %d µs", h.TotalCount(), h.Min())
	}
}

// TestCPUFiguresFollowWork: the figures see CPU that this process and a
// watched process tree (a shell whose children spin) really burnt, and not
// CPU that a sleeping tree did not.
func TestCPUFiguresFollowWork(t *testing.T) {
	spin := exec.Command("sh", "-c", "yes >/dev/null & yes >/dev/null & wait")
	idle := exec.Command("sleep", "30")
	for _, c := range []*exec.Cmd{spin, idle} {
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // killed as a group
		if err := c.Start(); err != nil {
			t.Skipf("cannot start %s: %v", c.Path, err)
		}
		t.Cleanup(func() {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			_ = c.Process.Kill()
			_, _ = c.Process.Wait()
		})
	}
	busy, quiet := Start(Trees{Server: spin.Process.Pid}), Start(Trees{Server: idle.Process.Pid})
	// Burn 200 ms of this process's CPU, however long a busy machine takes.
	from := selfCPU()
	for selfCPU()-from < 200*time.Millisecond {
		for i := 0; i < 1e6; i++ {
			_ = i * i
		}
	}
	time.Sleep(300 * time.Millisecond)
	b, q := busy.Stop(), quiet.Stop()
	if b.CPU < 0 {
		t.Skip("getrusage is not available")
	}
	if cpuTime := time.Duration(b.CPU * float64(b.Elapsed)); cpuTime < 190*time.Millisecond {
		t.Errorf("own CPU %.2f cores over %v = %v, want at least the 200ms burnt", b.CPU, b.Elapsed, cpuTime)
	}
	if b.Cores != runtime.NumCPU() || b.CPU > float64(b.Cores)+0.1 {
		t.Errorf("own CPU %.2f of %d cores", b.CPU, b.Cores)
	}
	if b.ServiceCPU != -1 || q.ServiceCPU != -1 {
		t.Errorf("no service tree watched, service CPU %v and %v, want -1 (unknown)", b.ServiceCPU, q.ServiceCPU)
	}
	if runtime.GOOS != "linux" {
		if b.ServerCPU != -1 || b.MachineCPU != -1 {
			t.Errorf("without /proc the server and machine CPU should be unknown (-1), got %v, %v", b.ServerCPU, b.MachineCPU)
		}
		return
	}
	// Two `yes` children spin for ~0.5 s: even on a busy machine they get
	// a share of a core; a sleeping process gets none.
	if b.ServerCPU < 0.1 || b.ServerCPU > float64(b.Cores)+0.1 {
		t.Errorf("a spinning tree used %.2f cores, want between 0.1 and %d", b.ServerCPU, b.Cores)
	}
	if q.ServerCPU < 0 || q.ServerCPU > 0.05 {
		t.Errorf("a sleeping process used %.2f cores, want about 0", q.ServerCPU)
	}
	if b.MachineCPU < b.ServerCPU-0.2 || b.MachineCPU > float64(b.Cores)+0.01 {
		t.Errorf("machine CPU %.2f cores, want at least the tree's %.2f and at most %d", b.MachineCPU, b.ServerCPU, b.Cores)
	}
	if b.Lateness.TotalCount() < 20 {
		t.Errorf("%d timer marks in %v, want about one per %v", b.Lateness.TotalCount(), b.Elapsed, Period)
	}
	t.Logf("own %.2f, tree %.2f, idle tree %.3f, machine %.2f of %d cores; lateness p99 %dµs over %d marks",
		b.CPU, b.ServerCPU, q.ServerCPU, b.MachineCPU, b.Cores, b.Lateness.ValueAtQuantile(99), b.Lateness.TotalCount())
}
