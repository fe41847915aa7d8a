package engine

import (
	"testing"

	"github.com/planrun/planrun/schema"
)

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
