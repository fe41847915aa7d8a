package markdown

import (
	"strings"
	"testing"
)

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"pipe", Text("a|b"), `a\|b`},
		{"html", Text("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;"},
		{"intraword underscore kept", Text("exhaustion_recovery"), "exhaustion_recovery"},
		{"emphasis underscore escaped", Text("_x_"), `\_x\_`},
		{"newlines folded", Text("a\nb\r\nc"), "a b c"},
		{"code span pipe", Code("a | b"), "`a \\| b`"},
		{"code span with backtick", Code("host=`db`"), "`` host=`db` ``"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestTable(t *testing.T) {
	var b strings.Builder
	if err := Table(&b, []string{"name", "n"}, "lr", [][]string{{"a", "1"}, {Text("b|c"), "22"}}); err != nil {
		t.Fatal(err)
	}
	want := "| name | n |\n|---|--:|\n| a | 1 |\n| b\\|c | 22 |\n\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
