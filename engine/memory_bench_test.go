package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/planrun/planrun/engine"
)

// BenchmarkMemoryManyUsers runs closed-model plans of many users (think 1 s,
// pool 20 + 30) and reports the process's peak resident memory (VmHWM):
// memory must follow concurrency (the recorders are bounded by GOMAXPROCS),
// not the number of users. Run it alone, one size at a time, so that the
// peak belongs to that size:
//
//	go test -run '^$' -bench 'MemoryManyUsers/users=10000' -benchtime 1x ./engine/
func BenchmarkMemoryManyUsers(b *testing.B) {
	for _, users := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			plan := fmt.Sprintf(`
version: 1
name: memory
pool: {size: 20, max_overflow: 30, timeout: 30s}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, users: %d, ramp_up: 5s, duration: 20s, think: 1s}
`, users)
			for range b.N {
				r, err := engine.Run(context.Background(), compileTB(b, plan, engine.Options{}), engine.RunOptions{})
				if err != nil {
					b.Fatal(err)
				}
				sc := r.Scenarios[0]
				b.ReportMetric(float64(sc.Ops)/sc.Elapsed.Seconds(), "ops/s")
				b.ReportMetric(float64(sc.MaxUsers), "users")
			}
			hwm, err := peakRSS()
			if err != nil {
				b.Skip(err)
			}
			b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
		})
	}
}

// peakRSS reads the process's peak resident set size (VmHWM) in bytes.
func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS needs /proc: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
