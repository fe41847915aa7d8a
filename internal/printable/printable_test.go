package printable

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "steady · 42µs", "steady · 42µs"},
		{"tab and newline kept", "a\tb\nc", "a\tb\nc"},
		{"ANSI colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"NUL BEL BS", "a\x00b\x07c\x08d", `a\x00b\x07c\x08d`},
		{"carriage return", "ok\rpwned", `ok\x0dpwned`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 CSI and NEL", "a\u009b31mb\u0085c", `a\u009b31mb\u0085c`},
		{"invalid UTF-8", "a\xffb\x9bc", "a\uFFFDb\uFFFDc"},
		{"right-to-left override", "txt\u202Eexe.bat", `txt\u202eexe.bat`},
		{"every bidi format character", "\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C", `\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		{"line and paragraph separators", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"neighbours left alone", "\u2027\u202F\u2065\u206A\u200D\u061B\u05D0", "\u2027\u202F\u2065\u206A\u200D\u061B\u05D0"},
		{"markup left alone", "``</details><h1>x</h1>", "``</details><h1>x</h1>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	if got, want := Line("a\tb\nc\x1b"), `a\x09b\x0ac\x1b`; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
}

// FuzzString: whatever the input, the output is valid UTF-8 and holds no
// control character but tab and newline (and none at all from Line).
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m", "\x00\x07\x08\r\n\t", "\u009b", "\xff\xfe", "é\u0085", "\u202e", "\u2028", "\u2066x\u2069"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, out := range map[string]string{"String": String(s), "Line": Line(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q is not valid UTF-8", name, s, out)
			}
			for _, r := range out {
				if (r < 0x20 && (name == "Line" || (r != '\t' && r != '\n'))) || (r >= 0x7f && r <= 0x9f) || reorders(r) {
					t.Fatalf("%s(%q) = %q holds control %U", name, s, out, r)
				}
			}
		}
		if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError || reorders(r) }) && String(s) != s {
			t.Fatalf("String changed clean text %q into %q", s, String(s))
		}
	})
}

// reorders reports whether r is a bidirectional formatting character or a
// line or paragraph separator.
func reorders(r rune) bool {
	return r == 0x61c || r == 0x200e || r == 0x200f || (r >= 0x2028 && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

func BenchmarkStringClean(b *testing.B) {
	s := strings.Repeat("scenario steady · acquire p95 1.2ms ", 4)
	for b.Loop() {
		_ = String(s)
	}
}
