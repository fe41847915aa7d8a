package selfwatch

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc: Linux reports them in
// USER_HZ, which is 100 on every architecture Go supports.
const userHZ = 100

// procStat is what treeCPU needs of /proc/PID/stat.
type procStat struct {
	ppid int
	cpu  int64 // utime + stime + cutime + cstime, in USER_HZ ticks
}

// readProcStat parses /proc/PID/stat; the command name, in parentheses,
// may itself hold spaces and parentheses, so fields are counted after the
// last ')'.
func readProcStat(path string) (procStat, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	// After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
	if len(f) < 15 {
		return procStat{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, false
	}
	var cpu int64
	for _, k := range f[11:15] {
		v, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return procStat{}, false
		}
		cpu += v
	}
	return procStat{ppid: ppid, cpu: cpu}, true
}

// treeCPU is the CPU time used so far by the process root and all its live
// descendants, including the children they reaped (the server's exited
// backends are in its cutime), or -1 when /proc cannot tell. It follows
// the tree through /proc/PID/task/TID/children, reading only the tree's
// own processes; where the kernel has no children files, it reads every
// process of /proc (treeCPUScan), which costs milliseconds on a machine
// with a few hundred processes.
func treeCPU(root int) time.Duration {
	if root <= 0 {
		return -1
	}
	var ticks int64
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		st, ok := readProcStat("/proc/" + strconv.Itoa(pid) + "/stat")
		if !ok {
			if pid == root {
				return -1
			}
			continue // ended meanwhile: its parent reaps its CPU time
		}
		kids, ok := children(pid)
		if !ok {
			return treeCPUScan(root)
		}
		ticks += st.cpu
		queue = append(queue, kids...)
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// children lists the children of every thread of pid; false when the
// kernel has no children files (CONFIG_PROC_CHILDREN). A process that
// ended meanwhile has none.
func children(pid int) ([]int, bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil, true // ended meanwhile
	}
	var kids []int
	for _, t := range tasks {
		data, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(dir + "/" + t.Name()); serr == nil {
				return nil, false // the thread is there, its children file is not
			}
			continue // the thread ended meanwhile
		}
		for _, f := range strings.Fields(string(data)) {
			if k, err := strconv.Atoi(f); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids, true
}

// treeCPUScan is treeCPU by reading every process of /proc to find the
// tree, for kernels without children files.
func treeCPUScan(root int) time.Duration {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(paths) == 0 {
		return -1
	}
	stats := map[int]procStat{}
	children := map[int][]int{}
	for _, p := range paths {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if st, ok := readProcStat(p); ok {
			stats[pid] = st
			children[st.ppid] = append(children[st.ppid], pid)
		}
	}
	if _, ok := stats[root]; !ok {
		return -1
	}
	var ticks int64
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		ticks += stats[pid].cpu
		queue = append(queue, children[pid]...)
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// machineTimes are the machine's CPU counters from /proc/stat, in ticks.
type machineTimes struct {
	busy, total int64
	ok          bool
}

func readMachineTimes() machineTimes {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTimes{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal [guest guest_nice]:
	// guest time is already counted in user.
	if len(f) < 9 || f[0] != "cpu" {
		return machineTimes{}
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return machineTimes{}
		}
		v[i] = n
	}
	idle := v[3] + v[4]
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return machineTimes{busy: busy, total: busy + idle, ok: true}
}
