// Package markdown writes GitHub-flavoured markdown safely: escaped text and
// code spans that stay inside a table cell, and tables. The report and
// compare renderers share it, so there is one markdown table writer.
//
// Text from outside planrun (names, SQL, server messages) must reach the
// markdown only through [Text] or [Code]: both fold it onto one line,
// replace control characters (see package printable), and neither lets it
// open HTML, a link, emphasis or a new table cell.
package markdown

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/planrun/planrun/internal/printable"
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
// line, control characters become visible escapes, pipes do not split
// cells, and nothing turns into HTML, links or emphasis.
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

// Code renders s as an inline code span that is safe in a table cell: on
// one line, control characters as visible escapes, pipes escaped. The fence
// is one backtick longer than the longest run of backticks in s, so nothing
// in s can close the span early (CommonMark 6.1); when s starts or ends with
// a backtick or a space, a space pads it on both sides (and CommonMark strips
// exactly that pair). An empty s gives "".
func Code(s string) string {
	s = escapePipes(OneLine(s))
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if first, last := s[0], s[len(s)-1]; first == '`' || first == ' ' || last == '`' || last == ' ' {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// escapePipes puts a backslash before every pipe of a code span's content so
// that the pipe does not end the table cell. GitHub (cmark-gfm) reads
// backslashes in pairs, so a pipe keeps the cell only after an odd number of
// them: after an odd run already in s, two are added (the cell then shows
// one backslash more than s had; no spelling shows it exactly).
func escapePipes(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	backslashes := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			backslashes++
		case '|':
			b.WriteByte('\\')
			if backslashes%2 == 1 {
				b.WriteByte('\\')
			}
			backslashes = 0
		default:
			backslashes = 0
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}

// OneLine folds line breaks and runs of white space into single spaces and
// replaces the remaining control characters with visible escapes
// ([printable.Line]), so that s stays on one line of markdown.
func OneLine(s string) string {
	return printable.Line(strings.Join(strings.Fields(s), " "))
}
