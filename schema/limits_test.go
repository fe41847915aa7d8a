package schema_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

func TestScaleDuration(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		f    float64
		want time.Duration
		ok   bool
	}{
		{"one", time.Minute, 1, time.Minute, true},
		{"rehearsal", time.Minute, 0.05, 3 * time.Second, true},
		{"zero factor", time.Minute, 0, 0, true},
		{"largest duration as is", math.MaxInt64, 1, math.MaxInt64, false}, // float64 rounds it up to 2^63
		{"overflow", time.Second, 1e10, math.MaxInt64, false},
		{"overflow by an infinite product", math.MaxInt64, math.MaxFloat64, math.MaxInt64, false},
		{"negative factor", time.Second, -1, 0, false},
		{"NaN", time.Second, math.NaN(), 0, false},
		{"infinity", time.Second, math.Inf(1), 0, false},
		{"just below the limit", 1 << 52, 1024, 1 << 62, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := schema.ScaleDuration(tt.d, tt.f)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ScaleDuration(%d, %g) = %d, %v; want %d, %v", tt.d, tt.f, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCheckTimeScale(t *testing.T) {
	src := doc(head, mixApp,
		"scenarios:",
		"  - {name: steady, users: 1, duration: 10m}",
		"  - name: ramp",
		"    stages:",
		"      - {users: 1, duration: 30s}",
		"      - {users: 2, duration: 90m}",
	)
	p, err := schema.Parse("plan.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    float64
		want []string // "pos: message", in order
	}{
		{"as written", 1, nil},
		{"rehearsal", 0.01, nil},
		{"up to the limit", 10, nil},
		{"each scenario over", 1e10, []string{
			"plan.yaml:7:40: with --time-scale 1e+10, scenario `steady` lasts 1666666667h, more than 1000h",
			"plan.yaml:10:30: with --time-scale 1e+10, scenario `ramp` lasts 83333333h by the end of stage 1, more than 1000h",
		}},
		{"together over", 600, []string{
			"plan.yaml:8:5: with --time-scale 600, the scenarios up to scenario `ramp` last 1005h in all, more than 1000h",
		}},
		{"past int64", 1e30, []string{
			"plan.yaml:7:40: with --time-scale 1e+30, scenario `steady` lasts 1.67e+29h, more than 1000h",
			"plan.yaml:10:30: with --time-scale 1e+30, scenario `ramp` lasts 8.33e+27h by the end of stage 1, more than 1000h",
		}},
		{"zero", 0, []string{"plan.yaml: --time-scale must be a positive number, got 0"}},
		{"negative", -1, []string{"plan.yaml: --time-scale must be a positive number, got -1"}},
		{"NaN", math.NaN(), []string{"plan.yaml: --time-scale must be a positive number, got NaN"}},
		{"infinite", math.Inf(1), []string{"plan.yaml: --time-scale must be a positive number, got +Inf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckTimeScale(tt.f)
			var got []string
			var es schema.Errors
			if err != nil && !errors.As(err, &es) {
				t.Fatalf("error is %T, want schema.Errors", err)
			}
			for _, e := range es {
				got = append(got, e.Pos.String()+": "+e.Msg)
				if e.Hint == "" {
					t.Errorf("no hint for %q", e.Msg)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("CheckTimeScale(%g):\n%s\nwant:\n%s", tt.f, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
