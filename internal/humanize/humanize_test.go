package humanize

import (
	"math"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"nanoseconds", 850, "850ns"},
		{"microseconds", 412 * time.Microsecond, "412µs"},
		{"small microseconds", 4120, "4.12µs"},
		{"milliseconds two decimals", 1239 * time.Microsecond, "1.24ms"},
		{"milliseconds", 312 * time.Millisecond, "312ms"},
		{"no trailing zeros", 22 * time.Millisecond, "22ms"},
		{"rounds into the next unit", 999600 * time.Microsecond, "1s"},
		{"seconds", 8100 * time.Millisecond, "8.1s"},
		{"minutes", 90 * time.Second, "1m30s"},
		{"59.96s rounds to a minute", 59960 * time.Millisecond, "1m00s"},
		{"hours", 65 * time.Minute, "1h05m"},
		{"negative", -3 * time.Millisecond, "-3ms"},
		{"largest", math.MaxInt64, "2561111h07m"},
		{"smallest", math.MinInt64, "-2561111h07m"},
		{"one above the smallest", math.MinInt64 + 1, "-2561111h07m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Duration(tt.in); got != tt.want {
				t.Errorf("Duration(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"one", 1, "100%"},
		{"zero", 0, "0%"},
		{"one decimal", 0.912, "91.2%"},
		{"never rounds up to 100", 0.99987, "99.99%"},
		{"needs three decimals", 0.999992, "99.999%"},
		{"almost one", 0.9999999, ">99.999%"},
		{"never rounds down to 0", 0.0004, "0.04%"},
		{"tiny", 0.000000001, "<0.001%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percent(tt.in); got != tt.want {
				t.Errorf("Percent(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestInt(t *testing.T) {
	for in, want := range map[int64]string{
		0: "0", 999: "999", 1234: "1,234", 1234567: "1,234,567", -45678: "-45,678", -999: "-999",
		math.MaxInt64: "9,223,372,036,854,775,807", math.MinInt64: "-9,223,372,036,854,775,808",
	} {
		if got := Int(in); got != want {
			t.Errorf("Int(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestExact(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Second, "30s"}, {30 * time.Minute, "30m"}, {90 * time.Minute, "1h30m"},
		{2 * time.Hour, "2h"}, {250 * time.Millisecond, "250ms"}, {0, "0"}, {1000 * time.Hour, "1000h"},
	}
	for _, tt := range tests {
		if got := Exact(tt.in); got != tt.want {
			t.Errorf("Exact(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRate(t *testing.T) {
	for in, want := range map[float64]string{42.345: "42.3", 2173.34: "2,173", 0: "0.0", math.NaN(): "n/a", math.Inf(1): "n/a"} {
		if got := Rate(in); got != want {
			t.Errorf("Rate(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestElapsed(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"a sub-second offset keeps a decimal", 400 * time.Millisecond, "0.4s"},
		{"a tiny offset", 20 * time.Millisecond, "0s"},
		{"half a second rounds up", 500 * time.Millisecond, "1s"},
		{"a step end a little late", 1003658999, "1s"},
		{"seconds", 12 * time.Second, "12s"},
		{"rounds to the nearest second", 12600 * time.Millisecond, "13s"},
		{"minutes", 65 * time.Second, "1m05s"},
		{"59.6s rounds to a minute", 59600 * time.Millisecond, "1m00s"},
		{"hours keep their seconds", time.Hour + 5*time.Minute + 10*time.Second, "1h05m10s"},
		{"negative", -3 * time.Second, "-3s"},
		{"largest", math.MaxInt64, "2562047h47m16s"},
		{"smallest", math.MinInt64, "-2562047h47m16s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Elapsed(tt.in); got != tt.want {
				t.Errorf("Elapsed(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
