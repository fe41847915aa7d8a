package schema_test

import (
	"math"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

// parseOK parses src and fails the test on any error.
func parseOK(t *testing.T, src string) *schema.Plan {
	t.Helper()
	p, err := schema.Parse("plan.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// TestParseRate checks the rates a plan may write and what they are in
// arrivals per second, in a scenario and in a stage.
func TestParseRate(t *testing.T) {
	tests := []struct {
		text string
		want schema.Rate
	}{
		{"400/s", 400},
		{"90/m", 1.5},
		{"1/m", 1.0 / 60},
		{"0.5/s", 0.5},
		{".25/s", 0.25},
		{"1e3/s", 1000},
		{"100 / s", 100},
		{"'250/s'", 250},
		{"100000/s", schema.MaxRate},
		{"6000000/m", schema.MaxRate},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			p := parseOK(t, doc(head, mixApp, "scenarios:",
				"  - {name: steady, rate: "+tt.text+", duration: 1s}",
				"  - name: staged",
				"    stages:",
				"      - {rate: "+tt.text+", duration: 1s}",
				"      - {rate: 0/s, duration: 1s}"))
			if got := p.Scenarios[0].Rate; math.Abs(float64(got-tt.want)) > 1e-12 {
				t.Errorf("scenario rate = %v/s, want %v/s", got, tt.want)
			}
			if got := p.Scenarios[1].Stages[0].Rate; math.Abs(float64(got-tt.want)) > 1e-12 {
				t.Errorf("stage rate = %v/s, want %v/s", got, tt.want)
			}
			if got := p.Scenarios[1].Stages[1].Rate; got != 0 {
				t.Errorf("a 0/s stage (a pause) = %v/s, want 0", got)
			}
		})
	}
}

// TestOpenModelDefaults checks the defaults of an open model, and that a
// closed model gets none of them.
func TestOpenModelDefaults(t *testing.T) {
	p := parseOK(t, doc(head, mixApp, "scenarios:",
		"  - {name: open, rate: 100/s, duration: 1s}",
		"  - {name: open-stages, stages: [{rate: 10/s, duration: 1s}]}",
		"  - {name: closed, users: 1, duration: 1s}",
		"  - {name: closed-stages, stages: [{users: 1, duration: 1s}]}",
		"  - {name: written, rate: 100/s, duration: 1s, arrival: uniform, max_in_flight: 7}"))
	for _, tt := range []struct {
		scenario string
		open     bool
		arrival  string
		inFlight int
	}{
		{"open", true, schema.ArrivalPoisson, schema.DefaultMaxInFlight},
		{"open-stages", true, schema.ArrivalPoisson, schema.DefaultMaxInFlight},
		{"closed", false, "", 0},
		{"closed-stages", false, "", 0},
		{"written", true, schema.ArrivalUniform, 7},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			s := p.Scenario(tt.scenario)
			if s.OpenModel() != tt.open || s.Arrival != tt.arrival || s.MaxInFlight != tt.inFlight {
				t.Errorf("open %v, arrival %q, max_in_flight %d; want %v, %q, %d",
					s.OpenModel(), s.Arrival, s.MaxInFlight, tt.open, tt.arrival, tt.inFlight)
			}
		})
	}
	g := p.Verdict.Generator
	if g.MaxTimerLateness.D() != schema.DefaultMaxTimerLateness || g.MaxLag.D() != schema.DefaultMaxLag {
		t.Errorf("verdict.generator = %v, %v; want %v, %v", g.MaxTimerLateness.D(), g.MaxLag.D(),
			schema.DefaultMaxTimerLateness, schema.DefaultMaxLag)
	}
	if p.Seed != nil {
		t.Errorf("seed = %d, want nil when not written", *p.Seed)
	}

	p = parseOK(t, doc(head, mixApp, scenario, "verdict:", "  generator: {max_timer_lateness: 50ms, max_lag: 1s}"))
	if g := p.Verdict.Generator; g.MaxTimerLateness.D() != 50*time.Millisecond || g.MaxLag.D() != time.Second {
		t.Errorf("verdict.generator as written = %v, %v; want 50ms, 1s", g.MaxTimerLateness.D(), g.MaxLag.D())
	}
}

// TestParseSeed checks that a seed is any 64-bit integer.
func TestParseSeed(t *testing.T) {
	for _, tt := range []struct {
		text string
		want int64
	}{
		{"0", 0}, {"42", 42}, {"-7", -7}, {"0x2a", 42},
		{"9223372036854775807", math.MaxInt64}, {"-9223372036854775808", math.MinInt64},
	} {
		t.Run(tt.text, func(t *testing.T) {
			p := parseOK(t, doc(head, mixApp, scenario, "seed: "+tt.text))
			if p.Seed == nil || *p.Seed != tt.want {
				t.Errorf("seed = %v, want %d", p.Seed, tt.want)
			}
		})
	}
}

// TestOpenModelErrors checks every error of the open model's keys: its
// position, message and hint.
func TestOpenModelErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []want
	}{
		{
			name: "rate without a unit",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 400, duration: 1s}"),
			want: []want{{"7:@400", "rate: rate needs a unit", "write `400/s` (arrivals per second) or `400/m` (per minute)"}},
		},
		{
			name: "rate per hour",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 90/h, duration: 1s}"),
			want: []want{{"7:@90/h", `rate: unknown rate unit "h"`, "write it per minute, `1.5/m`"}},
		},
		{
			name: "rate per min",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 90/min, duration: 1s}"),
			want: []want{{"7:@90/min", `rate: unknown rate unit "min"`, "write `90/m`"}},
		},
		{
			name: "rate per sec",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 90/sec, duration: 1s}"),
			want: []want{{"7:@90/sec", `rate: unknown rate unit "sec"`, "write `90/s`"}},
		},
		{
			name: "rate in requests per second",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 400rps, duration: 1s}"),
			want: []want{{"7:@400rps", `rate: invalid rate "400rps"`, "`400/s`, `90/m`"}},
		},
		{
			name: "rate over the limit",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 100001/s, duration: 1s}"),
			want: []want{{"7:@100001", "rate: rate 100001/s is more than 100,000/s", "at most 100,000 operations a second"}},
		},
		{
			name: "rate too large for a number",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 1e400/s, duration: 1s}"),
			want: []want{{"7:@1e400", `rate: rate "1e400/s" is too large`, "at most 100,000/s"}},
		},
		{
			name: "rate not finite",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: NaN/s, duration: 1s}", "  - {name: t, rate: Inf/s, duration: 1s}"),
			want: []want{
				{"7:@NaN", "rate must be a finite number, got NaN/s", "`400/s`"},
				{"8:@Inf", "rate must be a finite number, got Inf/s", "`400/s`"},
			},
		},
		{
			name: "rate negative",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, stages: [{rate: -5/s, duration: 1s}]}"),
			want: []want{{"7:@-5", "rate must not be negative, got -5/s", "`0/s` in a stage is a pause"}},
		},
		{
			name: "rate as a mapping",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: {per_second: 5}, duration: 1s}"),
			want: []want{{"7:@{per", "rate must be a rate such as `400/s`, got a mapping", "`90/m`"}},
		},
		{
			name: "scenario rate zero",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 0/s, duration: 1s}"),
			want: []want{{"7:@0/s", "rate must be > 0, got 0/s", "`0/s` is a pause inside `stages`"}},
		},
		{
			name: "rate and users",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 5, rate: 100/s, duration: 1s}"),
			want: []want{{"7:@100/s", "scenario `s` has both users and rate", "`users` is a closed model"}},
		},
		{
			name: "rate and stages",
			src:  doc(head, mixApp, "scenarios:", "  - name: s", "    stages: [{rate: 1/s, duration: 1s}]", "    rate: 100/s"),
			want: []want{{"9:11", "scenario `s` has both rate and stages", "`stages` with a `rate` in each stage"}},
		},
		{
			name: "users, rate and stages",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 1/s, stages: [{users: 1, duration: 1s}], users: 1}"),
			want: []want{{"7:@1}", "scenario `s` has both users and rate and stages", "keep one of `users`, `rate` and `stages`"}},
		},
		{
			name: "rate without duration",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 100/s}"),
			want: []want{{"7:5", "scenario `s` needs duration with rate", "`duration: 5m`: arrivals are scheduled for that long"}},
		},
		{
			name: "rate with ramp_up",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 100/s, ramp_up: 1s, duration: 2s}"),
			want: []want{{"7:@1s", "ramp_up goes with users, not rate", "`stages: [{rate: 400/s, ramp: 10s, duration: 1m}]`"}},
		},
		{
			name: "rate with recovery_after",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 100/s, duration: 2s, recovery_after: 1}"),
			want: []want{{"7:@1}", "recovery_after needs stages", "use `stages`"}},
		},
		{
			name: "rate with think",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 100/s, duration: 2s, think: 10ms..20ms}"),
			want: []want{{"7:@10ms", "scenario `s`: think goes with users, not rate", "an arrival has no think time"}},
		},
		{
			name: "rate stages with think",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, stages: [{rate: 1/s, duration: 1s}], think: 25h}"),
			want: []want{{"7:@25h", "scenario `s`: think goes with users, not rate", "an arrival has no think time"}},
		},
		{
			name: "stages mixing users and rate",
			src: doc(head, mixApp, "scenarios:", "  - name: s", "    stages:",
				"      - {duration: 1s}",
				"      - {rate: 10/s, duration: 1s}",
				"      - {users: 5, duration: 1s}",
				"      - {users: 5, duration: 1s}"),
			want: []want{{"11:@5,", "scenario `s`: stage 3 gives users, but stage 2 gives rate", "give every stage `users` (closed) or every stage `rate` (open)"}},
		},
		{
			name: "stage with users and rate",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, stages: [{users: 1, rate: 1/s, duration: 1s}]}"),
			want: []want{{"7:@1/s", "stage has both users and rate", "not both"}},
		},
		{
			name: "rate stages that all pause",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, stages: [{rate: 0/s, duration: 1s}, {duration: 1s}]}"),
			want: []want{{"7:@[{rate", "scenario `s`: every stage has rate 0/s, so no operation ever starts", "a rate above 0"}},
		},
		{
			name: "rate stages: recovery_after out of range",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, stages: [{rate: 5/s, duration: 1s}], recovery_after: 2}"),
			want: []want{{"7:@2}", "recovery_after must be between 1 and 1 (the number of stages), got 2", "1-based"}},
		},
		{
			// Uniform arrivals 1/rate apart, the first at the start: under one
			// arrival in all (1e-300/s started no operation at all).
			name: "uniform rate below one arrival per run",
			src: doc(head, mixApp, "scenarios:",
				"  - {name: s, rate: 1e-300/s, duration: 1m, arrival: uniform}",
				"  - {name: t, rate: 1/m, duration: 30s, arrival: uniform}",
				"  - {name: u, stages: [{rate: 0.5/s, ramp: 1s, duration: 1s}], arrival: uniform}",
				"  - {name: p, rate: 1e-300/s, duration: 1m}",
				"  - {name: ok, rate: 2/m, duration: 30s, arrival: uniform}"),
			want: []want{
				{"7:@1e-300", "scenario `s`: the rate schedules 6e-299 arrivals in all, less than one", "for one arrival in 1m give at least `1/m`"},
				{"8:@1/m", "scenario `t`: the rate schedules 0.5 arrivals in all, less than one", "for one arrival in 30s give at least `2/m`"},
				{"9:@[{rate", "scenario `u`: the stages schedule 0.25 arrivals in all, less than one", "or use `arrival: poisson`"},
			},
		},
		{
			name: "unknown arrival",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 5/s, duration: 1s, arrival: poison}"),
			want: []want{{"7:@poison", "unknown arrival `poison`", "did you mean `poisson`?"}},
		},
		{
			name: "unknown arrival far from any",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 5/s, duration: 1s, arrival: bursty}"),
			want: []want{{"7:@bursty", "unknown arrival `bursty`", "valid arrivals: `poisson`, `uniform`"}},
		},
		{
			name: "arrival and max_in_flight with users",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, users: 5, duration: 1s, arrival: uniform, max_in_flight: 10}"),
			want: []want{
				{"7:@uniform", "scenario `s`: arrival goes with rate, not users", "give the scenario a `rate` instead of `users`"},
				{"7:@10}", "scenario `s`: max_in_flight goes with rate, not users", "bounds an open model's operations started on schedule"},
			},
		},
		{
			name: "arrival with user stages",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, stages: [{users: 5, duration: 1s}], arrival: poisson}"),
			want: []want{{"7:@poisson", "scenario `s`: arrival goes with rate, not users", "spreads an open model's scheduled arrivals"}},
		},
		{
			name: "max_in_flight out of range",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 5/s, duration: 1s, max_in_flight: 0}", "  - {name: t, rate: 5/s, duration: 1s, max_in_flight: 100001}"),
			want: []want{
				{"7:@0}", "max_in_flight must be ≥ 1, got 0", "arrivals beyond it are dropped and counted"},
				{"8:@100001", "max_in_flight must be at most 100,000, got 100,001", "each unfinished operation holds a worker"},
			},
		},
		{
			name: "max_in_flight too large to read",
			src:  doc(head, mixApp, "scenarios:", "  - {name: s, rate: 5/s, duration: 1s, max_in_flight: 1e10}"),
			want: []want{{"7:@1e10", "max_in_flight must be an integer, got number 1e10", "max_in_flight is from 1 to 100,000"}},
		},
		{
			name: "seed not an integer",
			src:  doc(head, mixApp, scenario, "seed: 1.5", "verdict: {generator: {max_lag: 0s}}"),
			want: []want{
				{"8:7", "seed must be an integer, got number 1.5", "use a whole number"},
				{"9:@0s", "verdict generator max_lag must be > 0", "remove the key for the default 20ms"},
			},
		},
		{
			name: "seed out of range",
			src:  doc(head, mixApp, scenario, "seed: 9223372036854775808"),
			want: []want{{"8:7", "seed: integer 9223372036854775808 is out of range", "seed is a whole number from -9,223,372,036,854,775,808 to 9,223,372,036,854,775,807"}},
		},
		{
			name: "seed as a string",
			src:  doc(head, mixApp, scenario, "seed: random"),
			want: []want{{"8:7", `seed must be an integer, got string "random"`, ""}},
		},
		{
			name: "open-model keys in the wrong place or under another name",
			src: doc(head, mixApp, "scenarios:", "  - {name: s, rps: 400, duration: 1s, seed: 3}",
				"  - {name: t, rate: 1/s, ramp: 1s, duration: 2s}", "rate: 5/s"),
			want: []want{
				{"7:5", "scenario `s` needs users, rate or stages", ""},
				{"7:@rps", "unknown key `rps` in scenario", "an open model's arrival rate is `rate`, per second or per minute: write `rate: 400/s`"},
				{"7:@seed", "unknown key `seed` in scenario", "`seed` is a top-level key"},
				{"8:@ramp", "unknown key `ramp` in scenario", "a `rate` ramps with stages"},
				{"9:1", "unknown key `rate` at the top level", "`rate` belongs in a scenario, next to its `mix`"},
			},
		},
		{
			name: "generator limits",
			src:  doc(head, mixApp, scenario, "verdict:", "  generator:", "    max_timer_lateness: 0", "    max_lag: 5", "    max_cpu: 1"),
			want: []want{
				{"10:25", "verdict generator max_timer_lateness must be > 0", "the p99 lateness of the generator's own 10 ms timer"},
				{"11:14", "max_lag: duration needs a unit", "write `5s`"},
				{"12:5", "unknown key `max_cpu` in verdict.generator", "valid keys: `max_lag`, `max_timer_lateness`"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, tt.src, nil, tt.want)
		})
	}
}
