package selfwatch

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// TestTreeCPUWalkEqualsScan: following the children files finds the same
// tree, and the same CPU time, as reading every process of /proc; a
// process that does not exist has none (-1).
func TestTreeCPUWalkEqualsScan(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	if _, ok := children(os.Getpid()); !ok {
		t.Skip("this kernel has no /proc/PID/task/TID/children")
	}
	// A tree of three levels: sh, its sleeping children, and a grandchild.
	c := exec.Command("sh", "-c", "sleep 30 & sh -c 'sleep 30 & wait' & wait")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Skipf("cannot start sh: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		_, _ = c.Process.Wait()
	})
	// Roots whose trees do not change during the test: the sh tree, and
	// this test process (whose only children are that tree). CPU time
	// only grows, so the scan, read between two walks, lies between them
	// when both see the same processes.
	for _, root := range []int{c.Process.Pid, os.Getpid()} {
		before := int64(treeCPU(root))
		scan := int64(treeCPUScan(root))
		after := int64(treeCPU(root))
		if before < 0 || scan < before || scan > after {
			t.Errorf("root %d: walk %v, then scan %v, then walk %v: the scan must lie between the walks", root, before, scan, after)
		}
	}
	if got := treeCPU(1 << 30); got != -1 {
		t.Errorf("treeCPU of no process = %v, want -1", got)
	}
}

func BenchmarkTreeCPU(b *testing.B) {
	for _, f := range []struct {
		name string
		fn   func(int) int64
	}{{"walk", func(p int) int64 { return int64(treeCPU(p)) }}, {"scan", func(p int) int64 { return int64(treeCPUScan(p)) }}} {
		b.Run(f.name, func(b *testing.B) {
			pid := os.Getppid()
			for b.Loop() {
				f.fn(pid)
			}
		})
	}
}
