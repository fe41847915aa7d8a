package report

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0"},
		{"nanoseconds", 850, "850ns"},
		{"microseconds", 412 * time.Microsecond, "412µs"},
		{"small microseconds", 4120, "4.12µs"},
		{"milliseconds two decimals", 1239 * time.Microsecond, "1.24ms"},
		{"milliseconds", 312 * time.Millisecond, "312ms"},
		{"rounds into the next unit", 999600 * time.Microsecond, "1.00s"},
		{"seconds", 8100 * time.Millisecond, "8.10s"},
		{"minutes", 90 * time.Second, "1m30s"},
		{"59.96s rounds to a minute", 59960 * time.Millisecond, "1m00s"},
		{"hours", 65 * time.Minute, "1h05m"},
		{"negative", -3 * time.Millisecond, "-3.00ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatDuration(tt.in); got != tt.want {
				t.Errorf("formatDuration(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestConfigDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Second, "30s"}, {30 * time.Minute, "30m"}, {90 * time.Minute, "1h30m"},
		{2 * time.Hour, "2h"}, {250 * time.Millisecond, "250ms"}, {0, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := configDuration(tt.in); got != tt.want {
				t.Errorf("configDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatPercent(t *testing.T) {
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
			if got := formatPercent(tt.in); got != tt.want {
				t.Errorf("formatPercent(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatNumbers(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"int small", formatInt(999), "999"},
		{"int thousands", formatInt(1234), "1,234"},
		{"int millions", formatInt(1234567), "1,234,567"},
		{"int negative", formatInt(-45678), "-45,678"},
		{"rate below 100", formatRate(42.345), "42.3"},
		{"rate thousands", formatRate(2173.34), "2,173"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"pipe", mdText("a|b"), `a\|b`},
		{"html", mdText("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;"},
		{"intraword underscore kept", mdText("exhaustion_recovery"), "exhaustion_recovery"},
		{"emphasis underscore escaped", mdText("_x_"), `\_x\_`},
		{"newlines folded", mdText("a\nb\r\nc"), "a b c"},
		{"code span pipe", mdCode("a | b"), "`a \\| b`"},
		{"code span with backtick", mdCode("host=`db`"), "`` host=`db` ``"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
