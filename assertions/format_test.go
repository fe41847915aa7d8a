package assertions

import (
	"testing"
	"time"

	"github.com/planrun/planrun/internal/humanize"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{100 * time.Nanosecond, "100ns"},
		{1240 * time.Nanosecond, "1.24µs"},
		{300 * time.Microsecond, "300µs"},
		{1240 * time.Microsecond, "1.24ms"},
		{1236 * time.Microsecond, "1.24ms"},
		{312 * time.Millisecond, "312ms"},
		{312400 * time.Microsecond, "312ms"},
		{999960 * time.Microsecond, "1s"},
		{1200 * time.Millisecond, "1.2s"},
		{8100 * time.Millisecond, "8.1s"},
		{8 * time.Second, "8s"},
		{12345 * time.Millisecond, "12.3s"},
		{90 * time.Second, "1m30s"},
		{125 * time.Second, "2m05s"},
		{-312 * time.Millisecond, "-312ms"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := humanize.Duration(tc.d); got != tc.want {
				t.Errorf("humanize.Duration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"success_rate", 0.992, "99.2%"},
		{"success_rate", 0.95, "95%"},
		{"success_rate", 1.0, "100%"},
		{"success_rate", 0.99996, "99.996%"},
		{"success_rate", 0.0, "0%"},
		{"baseline.success_rate", 0.5, "50%"},
		{"utilization.p95", 0.8512, "85.1%"},
		{"connections.reuse", 0.999, "99.9%"},
		{"throughput", 812.44, "812 ops/s"},
		{"throughput", 12.345, "12.3 ops/s"},
		{"throughput", 4321.6, "4322 ops/s"},
		{"leaks", 3, "3"},
		{"ops", int64(10000), "10000"},
		{"driver", "pgx", `"pgx"`},
		{"pool.pre_ping", true, "true"},
		{"acquire.p95", 312 * time.Millisecond, "312ms"},
	} {
		t.Run(tc.name+"="+tc.want, func(t *testing.T) {
			if got := formatValue(tc.name, tc.v); got != tc.want {
				t.Errorf("formatValue(%s, %v) = %q, want %q", tc.name, tc.v, got, tc.want)
			}
		})
	}
}

func TestRewriteDurations(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"ms", "acquire.p95 < 200ms", `acquire.p95 < duration("200ms")`},
		{"s and s", "op.max < 8s && acquire.max < 8s", `op.max < duration("8s") && acquire.max < duration("8s")`},
		{"compound", "x < 1m30s", `x < duration("1m30s")`},
		{"fraction", "x < 1.5s", `x < duration("1.5s")`},
		{"us", "x < 500us", `x < duration("500us")`},
		{"micro sign", "x < 500µs", `x < duration("500µs")`},
		{"ns", "x < 100ns", `x < duration("100ns")`},
		{"no space", "x<2h", `x<duration("2h")`},
		{"in parens", "(x < 5m)", `(x < duration("5m"))`},
		{"identifier digits untouched", "acquire.p95 < 1", "acquire.p95 < 1"},
		{"plain numbers untouched", "success_rate > 0.95 && x * 1.2 > 3", "success_rate > 0.95 && x * 1.2 > 3"},
		{"double quoted string untouched", `driver == "8s"`, `driver == "8s"`},
		{"single quoted string untouched", `driver == '8s \' 9s'`, `driver == '8s \' 9s'`},
		{"backtick string untouched", "driver == `8s`", "driver == `8s`"},
		{"call untouched", `x < duration("200ms")`, `x < duration("200ms")`},
		{"unknown unit untouched", "x < 5min", "x < 5min"},
		{"unit then letters untouched", "x < 200msec", "x < 200msec"},
		{"identifier suffix untouched", "x < a5s", "x < a5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rewriteDurations(tc.src).src; got != tc.want {
				t.Errorf("rewriteDurations(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestRewrittenOriginal(t *testing.T) {
	//           0123456789012345678901234
	src := "a < 8s && b < 1µs && c"
	rw := rewriteDurations(src)
	orig := []rune(src)
	newSrc := []rune(rw.src)
	// Every rune outside a literal maps back to the same rune.
	for i, r := range newSrc {
		o := rw.original(i)
		inLiteral := false
		for _, s := range rw.spans {
			if i >= s.newFrom && i < s.newTo {
				inLiteral = true
				if o != s.from {
					t.Errorf("offset %d inside a literal maps to %d, want its start %d", i, o, s.from)
				}
			}
		}
		if !inLiteral && orig[o] != r {
			t.Errorf("offset %d (%q) maps to %d (%q)", i, r, o, orig[o])
		}
	}
}
