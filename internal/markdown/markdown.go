// Package markdown writes GitHub-flavoured markdown safely: escaped text and
// code spans that stay inside a table cell, and tables. The report and
// compare renderers share it, so there is one markdown table writer.
package markdown

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Table writes a GFM table. align holds one of 'l' or 'r' per column (missing
// ones are left-aligned); cells must already be escaped (Text, Code). A
// blank line follows the table.
func Table(w io.Writer, header []string, align string, rows [][]string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s |\n", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
		if i < len(align) && align[i] == 'r' {
			seps[i] = "--:"
		}
	}
	fmt.Fprintf(&b, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Text escapes s for a markdown paragraph or table cell: it stays on one
// line, pipes do not split cells, and nothing turns into HTML, links or
// emphasis.
func Text(s string) string {
	s = OneLine(s)
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch r {
		case '\\', '`', '*', '[', ']', '|', '~', '#':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '_':
			// An underscore inside a word never emphasizes (GFM); escape the others.
			if i == 0 || i == len(rs)-1 || !isWordRune(rs[i-1]) || !isWordRune(rs[i+1]) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Code renders s as an inline code span that is safe in a table cell.
func Code(s string) string {
	s = strings.ReplaceAll(OneLine(s), "|", `\|`)
	if s == "" {
		return ""
	}
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// OneLine folds line breaks into spaces.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)), " ")
}
