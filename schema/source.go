package schema

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// source is the plan text with a line index, to turn yaml.Node positions
// (1-based line, 1-based column in runes) into byte offsets and back.
type source struct {
	file  string
	data  []byte
	lines []int // byte offset of the start of each line

	cursor cursor
}

func newSource(file string, data []byte) *source {
	s := &source{file: file, data: data, lines: []int{0}}
	for i, c := range data {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// line returns the text of 1-based line l without its line break, or "".
func (s *source) line(l int) string {
	if l < 1 || l > len(s.lines) {
		return ""
	}
	start, end := s.lines[l-1], len(s.data)
	if l < len(s.lines) {
		end = s.lines[l] - 1
	}
	return strings.TrimSuffix(string(s.data[start:end]), "\r")
}

// offset returns the byte offset of a 1-based line and rune column, or -1.
func (s *source) offset(line, col int) int {
	if line < 1 || line > len(s.lines) || col < 1 {
		return -1
	}
	off, c := s.lines[line-1], 1
	if cur := s.cursor; cur.line == line && cur.col <= col {
		off, c = cur.off, cur.col
	}
	for ; c < col; c++ {
		if off >= len(s.data) || s.data[off] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(s.data[off:])
		off += size
	}
	s.cursor = cursor{off: off, line: line, col: col}
	return off
}

// posAt returns the position of byte offset off. Calls with increasing
// offsets on one line (the items of a long flow list) count runes from the
// previous call, so that they cost O(distance), not O(line length).
func (s *source) posAt(off int) Pos {
	l := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	from, col := s.lines[l], 1
	if c := s.cursor; c.line == l+1 && c.off <= off && c.off >= from {
		from, col = c.off, c.col
	}
	col += utf8.RuneCount(s.data[from:off])
	s.cursor = cursor{off: off, line: l + 1, col: col}
	return Pos{File: s.file, Line: l + 1, Col: col}
}

// cursor remembers the last position posAt computed.
type cursor struct{ off, line, col int }

// pos is the position of a node as yaml reports it.
func (s *source) pos(n *yaml.Node) Pos {
	return Pos{File: s.file, Line: max(n.Line, 1), Col: max(n.Column, 1)}
}

// textPos is the position of the first character of a scalar's text: inside
// the quotes of a quoted scalar, and on the first non-blank line after the
// indicator of a block scalar (`|`, `>`).
func (s *source) textPos(n *yaml.Node) Pos {
	p := s.pos(n)
	switch {
	case n.Kind != yaml.ScalarNode:
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		for l := n.Line + 1; l <= len(s.lines); l++ {
			text := s.line(l)
			if strings.TrimSpace(text) == "" {
				continue
			}
			indent := len(text) - len(strings.TrimLeft(text, " \t"))
			return Pos{File: s.file, Line: l, Col: utf8.RuneCountInString(text[:indent]) + 1}
		}
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		p.Col++
	}
	return p
}

// valuePos returns the position of byte offset off within a scalar's value
// when the scalar sits on one line and the offset maps to its source text
// (plain, or quoted without escapes before off); otherwise the text position.
func (s *source) valuePos(n *yaml.Node, off int) Pos {
	p := s.textPos(n)
	if strings.ContainsRune(n.Value, '\n') || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 ||
		off < 0 || off > len(n.Value) || strings.ContainsAny(n.Value[:off], `\'`) {
		return p
	}
	p.Col += utf8.RuneCountInString(n.Value[:off])
	return p
}

// offsetPos returns the position of byte offset off within a scalar's
// value: exact for a one-line scalar (see valuePos) and for a literal block
// (`|`), whose lines are the source's lines; otherwise the text position.
func (s *source) offsetPos(n *yaml.Node, off int) Pos {
	if n.Style&yaml.LiteralStyle == 0 || off < 0 || off > len(n.Value) {
		return s.valuePos(n, off)
	}
	lead := len(n.Value) - len(strings.TrimLeft(n.Value, " \t\r\n"))
	p := s.textPos(n)
	if off < lead {
		return p
	}
	text := n.Value[lead:off]
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		p.Line += strings.Count(text, "\n")
		text = text[i+1:]
	}
	p.Col += utf8.RuneCountInString(text)
	return p
}

// rawItem is one item of a flow sequence, cut from the source text.
type rawItem struct {
	text string
	pos  Pos
}

var lineBreakRun = regexp.MustCompile(`[ \t]*\r?\n[ \t]*`)

// flowItems cuts the flow sequence n (`[a, b(1, 2), "c"]`) into its items as
// written, splitting at commas outside brackets, parentheses, braces and
// quotes. YAML itself splits plain scalars at every comma in flow context, so
// `[randInt(1, 10)]` would be two items; expressions need the source text.
// Comments are dropped and line breaks folded to one space. ok is false when
// the source does not hold a flow sequence at n's position.
func (s *source) flowItems(n *yaml.Node) (items []rawItem, ok bool) {
	off := s.offset(n.Line, n.Column)
	if n.Kind != yaml.SequenceNode || off < 0 || off >= len(s.data) || s.data[off] != '[' {
		return nil, false
	}
	var (
		b     strings.Builder
		start = -1 // offset of the current item's first non-blank byte
		depth = 0
	)
	flush := func() {
		text := strings.TrimSpace(lineBreakRun.ReplaceAllString(b.String(), " "))
		if start >= 0 && text != "" {
			items = append(items, rawItem{text: text, pos: s.posAt(start)})
		}
		b.Reset()
		start = -1
	}
	for i := off + 1; i < len(s.data); {
		c := s.data[i]
		if start < 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' && c != ']' && c != '#' {
			start = i
		}
		switch {
		case c == '"' || c == '\'' || c == '`':
			end := skipQuoted(s.data, i)
			if end < 0 {
				return nil, false
			}
			b.Write(s.data[i:end])
			i = end
			continue
		case c == '#' && (i == 0 || isBlank(s.data[i-1])):
			for i < len(s.data) && s.data[i] != '\n' {
				i++
			}
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
		case (c == ')' || c == '}' || c == ']') && depth > 0:
			depth--
		case c == ']':
			flush()
			return items, true
		case c == ',' && depth == 0:
			flush()
			i++
			continue
		}
		b.WriteByte(c)
		i++
	}
	return nil, false
}

// skipQuoted returns the offset just after the string literal that starts at
// data[i] (", ' or `), or -1 when it does not end. Backslash escapes are
// honoured in " and ' strings; YAML's ” inside ' strings needs no special
// case (it closes and reopens).
func skipQuoted(data []byte, i int) int {
	q := data[i]
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j + 1
		}
	}
	return -1
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
