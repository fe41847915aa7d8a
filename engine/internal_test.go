package engine

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
	"github.com/planrun/planrun/tally"
)

func TestRampUsers(t *testing.T) {
	r := ramp{
		{Users: 10, Ramp: 10 * time.Second, Duration: 20 * time.Second},
		{Users: 30, Duration: 10 * time.Second},
		{Users: 0, Ramp: 10 * time.Second, Duration: 10 * time.Second},
	}
	cases := []struct {
		name string
		at   time.Duration
		want int
	}{
		{"start", 0, 0},
		{"mid ramp-up", 5 * time.Second, 5},
		{"just before a user's share", 999 * time.Millisecond, 0},
		{"end of ramp", 10 * time.Second, 10},
		{"hold", 15 * time.Second, 10},
		{"step up", 20 * time.Second, 30},
		{"ramp down starts from the previous level", 30 * time.Second, 30},
		{"ramp down halfway", 35 * time.Second, 15},
		{"after the end", 41 * time.Second, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Users(c.at); got != c.want {
				t.Errorf("Users(%v) = %d, want %d", c.at, got, c.want)
			}
		})
	}
	if r.Duration() != 40*time.Second || r.MaxUsers() != 30 || r.StageEnd(2) != 30*time.Second {
		t.Errorf("duration %v, max %d, stage 2 ends %v", r.Duration(), r.MaxUsers(), r.StageEnd(2))
	}
	if s := r.Scaled(0.5); s.Duration() != 20*time.Second || s.Users(2500*time.Millisecond) != 5 {
		t.Errorf("scaled: duration %v, users at 2.5s %d", s.Duration(), s.Users(2500*time.Millisecond))
	}
}

func TestMixPick(t *testing.T) {
	m := &mix{Ops: []*operation{{Name: "a"}, {Name: "b"}, {Name: "c"}}, cum: []float64{0.7, 0.9, 1}}
	for u, want := range map[float64]string{0: "a", 0.69: "a", 0.7: "b", 0.89: "b", 0.9: "c", 0.9999: "c"} {
		if got := m.pick(u).Name; got != want {
			t.Errorf("Pick(%v) = %s, want %s", u, got, want)
		}
	}
}

// BenchmarkRecord measures the per-operation recording path: one lock that
// only its user and the once-a-second collector take, and no allocation.
func BenchmarkRecord(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := newRecorder(tally.New(make([]tally.Op, 3), false), 50*time.Millisecond)
		res := opResult{Op: 1, Acquire: 120 * time.Microsecond, Acquired: true, NQueries: 2, Hold: 3 * time.Millisecond, Total: 4 * time.Millisecond, Category: -1}
		res.Queries[0], res.Queries[1] = 900*time.Microsecond, 1200*time.Microsecond
		for pb.Next() {
			r.add(&res)
		}
	})
}

func TestRecordDoesNotAllocate(t *testing.T) {
	r := newRecorder(tally.New(make([]tally.Op, 2), false), time.Millisecond)
	res := opResult{Op: 0, Acquire: time.Millisecond, Acquired: true, NQueries: 1, Total: 2 * time.Millisecond, Category: 3}
	if n := testing.AllocsPerRun(1000, func() { r.add(&res) }); n != 0 {
		t.Errorf("recording allocates %.1f times per operation", n)
	}
}

// TestRecordersFollowConcurrency: a scenario's recorders are bounded by the
// machine's concurrency, not by its users, and every user records into one.
func TestRecordersFollowConcurrency(t *testing.T) {
	for _, users := range []int{1, 3, 10_000} {
		sc := &scenario{Name: "s", Mix: &mix{Ops: []*operation{{Name: "a"}}, cum: []float64{1}}, Shape: ramp{{Users: users, Duration: time.Second}}}
		c := newCollector(sc, 1, 1)
		want := min(users, shardsPerProc*runtime.GOMAXPROCS(0))
		if len(c.recs) != want {
			t.Errorf("%d users: %d recorders, want %d", users, len(c.recs), want)
		}
		for id := 1; id <= users; id++ {
			if c.recorderFor(id) == nil {
				t.Fatalf("user %d has no recorder", id)
			}
		}
	}
}

// TestMixStatements: the statements check sees every statement of the mixes
// the scenarios run (each mix once, unused mixes left out), where each is
// written, and how many args it gets.
func TestMixStatements(t *testing.T) {
	src := `version: 1
name: positions
mixes:
  reads:
    - name: one
      sql: SELECT 1
    - name: pair
      transaction:
        - SELECT now()
        - {sql: "SELECT $1::int, $2::int", args: [1, 2]}
  unused:
    - {name: u, sql: SELECT 2}
scenarios:
  - {name: s, mix: reads, users: 1, duration: 1s}
  - {name: t, mix: reads, users: 1, duration: 1s}
`
	plan, err := schema.Parse("positions.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(plan, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range prog.mixStatements() {
		lines = append(lines, fmt.Sprintf("%s/%s#%d %s args=%d %q", s.Mix, s.Operation, s.Index, s.Pos, s.Args, s.SQL))
	}
	want := []string{
		`reads/one#0 positions.yaml:5:7 args=0 "SELECT 1"`,
		`reads/pair#1 positions.yaml:9:11 args=0 "SELECT now()"`,
		`reads/pair#2 positions.yaml:10:18 args=2 "SELECT $1::int, $2::int"`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestErrorSampleRedactsBeforeCutting: a password that straddles the
// sample's length bound must not survive in part.
func TestErrorSampleRedactsBeforeCutting(t *testing.T) {
	msg := strings.Repeat("x", maxErrorSample-len(" postgres://app:")-4) + " postgres://app:hunter2secret@db/finance" // the bound falls after "hunt"
	got := errorSample(errors.New(msg), "")
	if strings.Contains(got, "hunt") || !strings.HasSuffix(got, "…") || len(got) > maxErrorSample+len("…") {
		t.Errorf("sample %q: want it redacted, then cut to %d bytes", got[len(got)-40:], maxErrorSample)
	}
}
