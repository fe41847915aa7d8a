package engine

import (
	"math"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

const ms = time.Millisecond

// change is a level change at t ms.
func change(t int, level int32) pool.LevelChange {
	return pool.LevelChange{At: time.Duration(t) * ms, Level: level}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func sameUtil(got, want results.Utilization) bool {
	return near(got.Mean, want.Mean) && near(got.P95, want.P95) && near(got.Max, want.Max)
}

// TestLevelTime: utilization is the exact time-weighted level, p95 the
// level the pool was at or below for 95 % of the window, max the highest
// level reached at any instant, however briefly.
func TestLevelTime(t *testing.T) {
	cases := []struct {
		name     string
		capacity int
		from     time.Duration // the warm-up's end
		changes  []pool.LevelChange
		end      time.Duration
		want     results.Utilization
	}{
		{
			name: "full half the time", capacity: 4, end: 100 * ms,
			changes: []pool.LevelChange{change(0, 4), change(50, 0)},
			want:    results.Utilization{Mean: 0.5, P95: 1, Max: 1},
		},
		{
			// 2 ms at 4 of 4 in 100 ms: a 100 ms sample would miss it.
			name: "a brief exhaustion is the max", capacity: 4, end: 100 * ms,
			changes: []pool.LevelChange{change(0, 2), change(10, 4), change(12, 2)},
			want:    results.Utilization{Mean: (2*98 + 4*2) / 100.0 / 4, P95: 0.5, Max: 1},
		},
		{
			name: "a change that lasted no time still counts for max", capacity: 2, end: 10 * ms,
			changes: []pool.LevelChange{change(0, 1), change(5, 2), change(5, 1)},
			want:    results.Utilization{Mean: 0.5, P95: 0.5, Max: 1},
		},
		{
			// 96 % of the time at 1, 4 % at 3: p95 is 1 of 4.
			name: "p95 is a level of time, not of changes", capacity: 4, end: 100 * ms,
			changes: []pool.LevelChange{change(0, 1), change(96, 3)},
			want:    results.Utilization{Mean: (96 + 3*4) / 100.0 / 4, P95: 0.25, Max: 0.75},
		},
		{
			// Full during the warm-up only: not measured. The level held
			// when the window opens counts from there.
			name: "the warm-up is left out", capacity: 2, from: 50 * ms, end: 150 * ms,
			changes: []pool.LevelChange{change(0, 2), change(40, 1), change(100, 0)},
			want:    results.Utilization{Mean: 0.25, P95: 0.5, Max: 0.5},
		},
		{
			name: "no time measured", capacity: 2, from: 50 * ms, end: 40 * ms,
			changes: []pool.LevelChange{change(0, 2)},
			want:    results.Utilization{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newPoolLevels(c.capacity, 1, c.from)
			l.logs[0] = c.changes
			l.merge(c.end)
			if got := l.each[0].utilization(c.end); !sameUtil(got, c.want) {
				t.Errorf("replica: got %+v, want %+v", got, c.want)
			}
			if got := l.total.utilization(c.end); !sameUtil(got, c.want) {
				t.Errorf("total of one replica: got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestLevelTimeTotal: the total is the sum of the replicas' levels at each
// instant, not a combination of their summaries: two replicas full at
// different times are each at max 1, the total never.
func TestLevelTimeTotal(t *testing.T) {
	l := newPoolLevels(2, 2, 0)
	l.origin[1] = -10 * ms // created 10 ms before the scenario's start, the other at it
	// Taken in two parts: replica 2 is full from 50 ms to 100 ms; its
	// last change came 1 ms after the reading at 100 ms, and counts at it.
	l.logs[0] = []pool.LevelChange{change(0, 2), change(50, 0)}
	l.logs[1] = []pool.LevelChange{change(60, 2)}
	l.merge(60 * ms)
	l.logs[0], l.logs[1] = nil, []pool.LevelChange{change(110, 0), change(111, 1)}
	l.merge(100 * ms)
	end := 100 * ms
	for i, want := range []results.Utilization{{Mean: 0.5, P95: 1, Max: 1}, {Mean: 0.5, P95: 1, Max: 1}} {
		if got := l.each[i].utilization(end); !sameUtil(got, want) {
			t.Errorf("replica %d: got %+v, want %+v", i+1, got, want)
		}
	}
	want := results.Utilization{Mean: 0.5, P95: 0.5, Max: 0.5}
	if got := l.total.utilization(end); !sameUtil(got, want) {
		t.Errorf("total: got %+v, want %+v", got, want)
	}
	// The change logged after the reading counts from it on.
	if got := l.total.utilization(200 * ms); !near(got.Max, 0.5) || !near(got.Mean, (0.5*100+0.25*100)/200) {
		t.Errorf("total to 200ms: got %+v", got)
	}
}

// TestTimeScaleNote: an open model rehearsed at another length keeps its
// rates, so the note says by how much its queue changed and names the surge.
func TestTimeScaleNote(t *testing.T) {
	plan, err := schema.Parse("plan.yaml", []byte(`
version: 1
name: note
mixes:
  m:
    - {name: a, sql: SELECT 1}
scenarios:
  - name: surge
    mix: m
    stages:
      - {rate: 400/s, duration: 20s}
      - {rate: 1500/s, ramp: 1s, duration: 6s}
      - {rate: 400/s, duration: 30s}
  - {name: steady, mix: m, rate: 100/s, duration: 10s}
  - {name: closed, mix: m, users: 5, duration: 10s}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		scale float64
		want  []string // in order, for surge, steady, closed
	}{
		{"a tenth", 0.1, []string{
			"--time-scale 0.1 shortened every stage to 0.1 × its planned length at the same rate (stage 2: 1,500/s for 600ms instead of 6s), so a queue built while arrivals outpaced the pool was about 0.1 × the one the plan's arithmetic gives, and its waits and drain 0.1 × as long",
			"--time-scale 0.1 shortened the scenario to 0.1 × its planned length at the same rate (100/s for 1s instead of 10s), so a queue built while arrivals outpaced the pool was about 0.1 × the one the plan's arithmetic gives, and its waits and drain 0.1 × as long",
			"",
		}},
		{"longer", 2, []string{
			"--time-scale 2 lengthened every stage to 2 × its planned length at the same rate (stage 2: 1,500/s for 12s instead of 6s), so a queue built while arrivals outpaced the pool was about 2 × the one the plan's arithmetic gives, and its waits and drain 2 × as long",
			"--time-scale 2 lengthened the scenario to 2 × its planned length at the same rate (100/s for 20s instead of 10s), so a queue built while arrivals outpaced the pool was about 2 × the one the plan's arithmetic gives, and its waits and drain 2 × as long",
			"",
		}},
		{"as written", 1, []string{"", "", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := range plan.Scenarios {
				sc := compileScenario(plan, &plan.Scenarios[i], map[string]*mix{}, c.scale)
				if sc.TimeScaleNote != c.want[i] {
					t.Errorf("%s: note\n%q\nwant\n%q", plan.Scenarios[i].Name, sc.TimeScaleNote, c.want[i])
				}
			}
		})
	}
}
