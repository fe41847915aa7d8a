package report

import (
	"testing"
	"time"
)

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

func TestFormatNumbers(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
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
