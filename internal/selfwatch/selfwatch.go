// Package selfwatch measures the load generator itself while a plan runs:
// how late a 10 ms timer fires (a starved process fires late), how much CPU
// planrun uses, and, where the machine lets it read them, how much CPU the
// process trees planrun started (the embedded PostgreSQL, the service under
// test) and the whole machine use.
//
// A load generator that is itself saturated measures itself, not the system
// under test; these figures are how planrun knows.
package selfwatch

import (
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Period is the timer whose lateness is measured: 10 ms.
const Period = 10 * time.Millisecond

// Figures is what a Watch measured. CPU figures are in cores (1.5 = one and
// a half cores busy on average); a figure the machine could not give is -1.
type Figures struct {
	// Lateness is how late each 10 ms timer fired, in microseconds.
	Lateness *hdrhistogram.Histogram
	// Elapsed is how long the watch ran.
	Elapsed time.Duration
	// CPU is planrun's own CPU use (user + system, all threads).
	CPU float64
	// ServerCPU is the CPU use of the server's process tree (Trees.Server).
	ServerCPU float64
	// ServiceCPU is the CPU use of the service's process tree
	// (Trees.Service).
	ServiceCPU float64
	// MachineCPU is the busy CPU of the whole machine (Linux /proc/stat).
	MachineCPU float64
	// Cores is the number of CPUs the machine has.
	Cores int
}

// Trees names the process trees a Watch accounts for, each by the PID of
// its root; 0 leaves a tree out (its figure is -1). A tree is the root and
// every live descendant, with the CPU of the descendants they reaped.
type Trees struct {
	// Server is the embedded server's postmaster.
	Server int
	// Service is the service under test, when planrun started it.
	Service int
}

// tree is one watched process tree and its CPU time at Start (-1 when
// unreadable).
type tree struct {
	root int
	cpu0 time.Duration
}

// startTree reads root's tree's CPU time now.
func startTree(root int) tree {
	if root <= 0 {
		return tree{}
	}
	return tree{root: root, cpu0: treeCPU(root)}
}

// cores is the tree's CPU use since Start over secs seconds, in cores; -1
// when the tree is not watched, or /proc could not tell at Start or now (the
// root ended).
func (t tree) cores(secs float64) float64 {
	if t.root <= 0 || t.cpu0 < 0 {
		return -1
	}
	c := treeCPU(t.root)
	if c < 0 {
		return -1
	}
	return (c - t.cpu0).Seconds() / secs
}

// Watch measures from Start until Stop.
type Watch struct {
	start    time.Time
	cpu0     time.Duration
	server   tree
	service  tree
	machine0 machineTimes

	stop chan struct{}
	done sync.WaitGroup

	mu       sync.Mutex
	lateness *hdrhistogram.Histogram
}

// Start begins watching planrun, the machine, and the process trees of
// trees.
func Start(trees Trees) *Watch {
	w := &Watch{
		start:    time.Now(),
		cpu0:     selfCPU(),
		server:   startTree(trees.Server),
		service:  startTree(trees.Service),
		machine0: readMachineTimes(),
		stop:     make(chan struct{}),
		lateness: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
	}
	w.done.Add(1)
	go w.tick()
	return w
}

// tick sleeps to each 10 ms mark and records how late it woke. Marks that a
// late wake-up skipped are recorded too, each with the lateness it would
// have had, so a long stall weighs as much as it lasted.
func (w *Watch) tick() {
	defer w.done.Done()
	timer := time.NewTimer(Period)
	defer timer.Stop()
	next := w.start.Add(Period)
	for {
		select {
		case <-w.stop:
			return
		case now := <-timer.C:
			w.mu.Lock()
			next = recordWake(w.lateness, next, now)
			w.mu.Unlock()
			timer.Reset(time.Until(next))
		}
	}
}

// recordWake records a wake-up at now for the mark next, and for every later
// mark that now has passed too, each with its own lateness (at least 1 µs);
// it returns the first mark still ahead.
func recordWake(h *hdrhistogram.Histogram, next, now time.Time) time.Time {
	for ; !next.After(now); next = next.Add(Period) {
		_ = h.RecordValue(max(1, now.Sub(next).Microseconds()))
	}
	return next
}

// Lateness returns a copy of the timer lateness recorded so far.
func (w *Watch) Lateness() *hdrhistogram.Histogram {
	w.mu.Lock()
	defer w.mu.Unlock()
	return hdrhistogram.Import(w.lateness.Export())
}

// Stop ends the watch and returns its figures.
func (w *Watch) Stop() Figures {
	close(w.stop)
	w.done.Wait()
	return w.figures(w.lateness)
}

// Now returns the figures so far without stopping the watch (for live
// assertions); its Lateness is a copy.
func (w *Watch) Now() Figures {
	return w.figures(w.Lateness())
}

// figures computes the CPU figures from Start until now, with lateness.
func (w *Watch) figures(lateness *hdrhistogram.Histogram) Figures {
	elapsed := time.Since(w.start)
	f := Figures{Lateness: lateness, Elapsed: elapsed, CPU: -1, ServerCPU: -1, ServiceCPU: -1, MachineCPU: -1, Cores: numCPU()}
	secs := elapsed.Seconds()
	if secs <= 0 {
		return f
	}
	if c := selfCPU(); c >= 0 && w.cpu0 >= 0 {
		f.CPU = (c - w.cpu0).Seconds() / secs
	}
	f.ServerCPU = w.server.cores(secs)
	f.ServiceCPU = w.service.cores(secs)
	if m := readMachineTimes(); m.ok && w.machine0.ok && m.total > w.machine0.total {
		busy := float64(m.busy-w.machine0.busy) / float64(m.total-w.machine0.total)
		f.MachineCPU = busy * float64(f.Cores)
	}
	return f
}

// selfCPU is this process's CPU time so far, or -1.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func numCPU() int { return runtime.NumCPU() }
