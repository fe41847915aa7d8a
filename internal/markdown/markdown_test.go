package markdown

import (
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/markdown/markdowntest"
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
		{"control characters escaped", Text("a\x1b[31mb\x00"), `a\\x1b\[31mb\\x00`},
		{"code span pipe", Code("a | b"), "`a \\| b`"},
		{"code span with backtick", Code("host=`db`"), "`` host=`db` ``"},
		{"code span with double backtick", Code("a``b"), "```a``b```"},
		{"code span starting with backticks", Code("``</details>"), "``` ``</details> ```"},
		{"code span ending with a backtick", Code("x`"), "`` x` ``"},
		{"code span control characters", Code("\x1b[31mred\a"), "`\\x1b[31mred\\x07`"},
		{"code span backslash before pipe", Code(`a\|b`), "`a\\\\\\|b`"},
		{"empty code span", Code(" \n "), ""},
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

// attacks are names and messages that tried to break out of markdown.
var attacks = []string{
	"``",
	"</details><h1>x</h1>",
	"``</details><h1>pwn</h1>\x1b[31m",
	"` <h1>x</h1> `",
	"```<b>x</b>`",
	"a\\`<b>x</b>",
	"<script>alert(1)</script>",
	"<!-- x -->",
	"&lt;h1&gt;",
	"[x](javascript:alert(1)) ![y](http://example.com/y.png)",
	"*a* _b_ ~c~ # d",
	"a | <h1>x</h1> | b",
	"\x1b[31mred\x1b[0m NUL\x00 BEL\a BS\b DEL\x7f CSI\u009b",
	"line\nbreak\r\n<h1>x</h1>",
	"\\",
	"x\\",
}

// TestNoHTMLEscapes parses Text and Code of every attack with a CommonMark
// (GFM) parser, in a paragraph and in a table cell: no HTML, the table keeps
// its cells, and the reader sees exactly the one-line text.
func TestNoHTMLEscapes(t *testing.T) {
	for _, attack := range attacks {
		want := OneLine(attack)
		t.Run(want, func(t *testing.T) {
			for _, tt := range []struct {
				name, md string
				code     bool
			}{
				{"text in paragraph", "before " + Text(attack) + " after\n", false},
				{"code in paragraph", "before " + Code(attack) + " after\n", true},
				{"text in table", table(Text(attack)), false},
				{"code in table", table(Code(attack)), true},
			} {
				doc, err := markdowntest.Parse(tt.md)
				if err != nil {
					t.Fatalf("%s: parse: %v", tt.name, err)
				}
				if len(doc.HTML) > 0 {
					t.Errorf("%s: raw HTML %q in\n%s", tt.name, doc.HTML, tt.md)
				}
				if strings.ContainsFunc(tt.md, isControl) {
					t.Errorf("%s: a control character in %q", tt.name, tt.md)
				}
				shown := want
				if tt.code && !strings.Contains(tt.name, "table") {
					shown = escapePipes(want) // a paragraph shows the backslashes
				}
				switch {
				case tt.code && (len(doc.Code) != 1 || doc.Code[0] != shown):
					t.Errorf("%s: code spans %q, want [%q]\n%s", tt.name, doc.Code, shown, tt.md)
				case !tt.code && len(doc.Code) > 0:
					t.Errorf("%s: code spans %q in text\n%s", tt.name, doc.Code, tt.md)
				case !strings.Contains(doc.Visible, shown):
					t.Errorf("%s: the reader sees %q, not %q\n%s", tt.name, doc.Visible, shown, tt.md)
				}
				if strings.Contains(tt.name, "table") && !strings.Contains(doc.Visible, "last cell") {
					t.Errorf("%s: the table lost its last cell: %q\n%s", tt.name, doc.Visible, tt.md)
				}
			}
		})
	}
}

// TestCodeBackslashPipe: a backslash before a pipe cannot be shown exactly
// in a GitHub table cell; the cell must still hold it, in code.
func TestCodeBackslashPipe(t *testing.T) {
	doc, err := markdowntest.Parse(table(Code(`a\|<h1>x</h1>`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.HTML) > 0 || len(doc.Code) != 1 || doc.Code[0] != `a\\|<h1>x</h1>` || !strings.Contains(doc.Visible, "last cell") {
		t.Errorf("HTML %q, code %q, visible %q", doc.HTML, doc.Code, doc.Visible)
	}
}

// table is a two-column GFM table whose first body cell is cell.
func table(cell string) string {
	var b strings.Builder
	_ = Table(&b, []string{"value", "next"}, "", [][]string{{cell, "last cell"}})
	return b.String()
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f)
}
