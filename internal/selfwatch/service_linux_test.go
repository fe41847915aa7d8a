package selfwatch

import (
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestServiceTreeCPU: a service tree (a shell whose child spins) is
// accounted as ServiceCPU, apart from the server's, and to the tick: the
// tree's CPU over the watch lies between what /proc said of the spinning
// child just inside the watch and what it said of the shell and the child
// just outside it. The same counters, read around the watch's own reads,
// bound it whatever the machine's load.
func TestServiceTreeCPU(t *testing.T) {
	c := exec.Command("sh", "-c", "yes >/dev/null & wait")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // killed as a group
	if err := c.Start(); err != nil {
		t.Skipf("cannot start sh: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		_, _ = c.Process.Wait()
	})
	sh := c.Process.Pid
	kids, ok := children(sh)
	for deadline := time.Now().Add(10 * time.Second); ok && len(kids) == 0 && time.Now().Before(deadline); kids, ok = children(sh) {
		time.Sleep(5 * time.Millisecond) // until sh has forked yes
	}
	if !ok {
		t.Skip("this kernel has no /proc/PID/task/TID/children")
	}
	if len(kids) != 1 {
		t.Fatalf("sh %d has children %v, want its one yes", sh, kids)
	}
	ticks := func(pid int) int64 {
		t.Helper()
		st, ok := readProcStat("/proc/" + strconv.Itoa(pid) + "/stat")
		if !ok {
			t.Fatalf("cannot read /proc/%d/stat", pid)
		}
		return st.cpu
	}
	yes := kids[0]
	sh0, yes0 := ticks(sh), ticks(yes) // outside the watch
	w := Start(Trees{Service: sh})
	inside0 := ticks(yes)
	for ticks(yes)-inside0 < 20 { // 200 ms of the child's CPU, however long a busy machine takes
		time.Sleep(10 * time.Millisecond)
	}
	inside1 := ticks(yes)
	f := w.Stop()
	sh1, yes1 := ticks(sh), ticks(yes)

	if f.ServerCPU != -1 {
		t.Errorf("no server tree watched, server CPU %v, want -1", f.ServerCPU)
	}
	if f.ServiceCPU < 0 {
		t.Fatalf("service CPU %v: unknown, for a tree /proc shows", f.ServiceCPU)
	}
	tick := time.Second / userHZ
	got := time.Duration(f.ServiceCPU * float64(f.Elapsed))
	lo := time.Duration(inside1-inside0) * tick
	hi := time.Duration(sh1-sh0+yes1-yes0) * tick
	if got < lo-time.Millisecond || got > hi+time.Millisecond {
		t.Errorf("service tree CPU %v over the watch (%.2f cores over %v), want between the child's %v inside the watch and the tree's %v around it",
			got, f.ServiceCPU, f.Elapsed, lo, hi)
	}
	if f.MachineCPU >= 0 && f.MachineCPU < f.ServiceCPU-0.2 {
		t.Errorf("machine CPU %.2f cores, less than the service tree's %.2f", f.MachineCPU, f.ServiceCPU)
	}
	t.Logf("service tree %.2f cores (%v of CPU over %v; child inside %v, tree around %v), machine %.2f of %d cores",
		f.ServiceCPU, got, f.Elapsed, lo, hi, f.MachineCPU, f.Cores)
}
