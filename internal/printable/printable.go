// Package printable makes text that comes from outside planrun (plan,
// scenario and operation names, SQL, server error messages, report files
// read back) safe to print: on a terminal, in markdown, in XML and in log
// lines. Nothing in such text may move the cursor, change colours, ring a
// bell, erase what was printed or end a document early.
//
// Every control character is replaced by a visible escape, so the reader
// still sees that it was there and which one it was:
//
//   - C0 controls U+0000–U+001F (other than tab and newline, see [String])
//     and DEL U+007F become \xHH: NUL is \x00, BEL \x07, BS \x08, CR \x0d,
//     ESC \x1b. An ANSI sequence such as ESC[31m thus prints as \x1b[31m.
//   - C1 controls U+0080–U+009F become \u00HH: CSI is \u009b.
//   - Characters that reorder or break what follows become \uHHHH: the
//     bidirectional formatting characters (LRE, RLE, PDF, LRO, RLO
//     U+202A–U+202E; LRI, RLI, FSI, PDI U+2066–U+2069; LRM, RLM U+200E,
//     U+200F; ALM U+061C), with which "txt.exe" can print as "exe.txt"
//     (Trojan Source), and the line and paragraph separators U+2028, U+2029,
//     which break a line in some terminals, editors and JavaScript.
//   - Bytes that are not valid UTF-8 become U+FFFD (�).
//
// A backslash in the input is kept as it is: "\x1b" typed as four
// characters and an ESC look the same once printed, which is the price of a
// readable escape.
package printable

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// String returns s with every control character other than tab and newline
// replaced by a visible escape (see the package comment), for text whose
// format allows line breaks: table cells, XML text, log lines.
func String(s string) string { return clean(s, true) }

// Line is [String] that also escapes tab (\x09) and newline (\x0a), for text
// that must stay on one line: a refreshing progress line, a name in a title.
func Line(s string) string { return clean(s, false) }

func clean(s string, keepBreaks bool) string {
	if isClean(s, keepBreaks) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case isControl(r, keepBreaks) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case isControl(r, keepBreaks):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean reports whether s needs no change, the common case, without
// allocating.
func isClean(s string, keepBreaks bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || isControl(r, keepBreaks) {
			return false
		}
		i += size
	}
	return true
}

// isControl reports whether r is a C0 control, DEL, a C1 control, a
// bidirectional formatting character or a line or paragraph separator; tab
// and newline only when keepBreaks is false.
func isControl(r rune, keepBreaks bool) bool {
	switch {
	case r == '\t' || r == '\n':
		return !keepBreaks
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r < 0x61c:
		return false
	case r == 0x61c, r == 0x200e, r == 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
