package assertions

import (
	"strings"
	"unicode"
)

// rewritten is an assertion's source after duration literals were replaced
// by duration("...") calls, with what is needed to map positions back.
// Offsets are in runes, as expr counts them.
type rewritten struct {
	src   string
	spans []span // replaced literals, in order
}

// span is one replaced literal: [from, to) in the original source and
// [newFrom, newTo) in the rewritten one.
type span struct {
	from, to       int
	newFrom, newTo int
}

// rewriteDurations replaces every duration literal outside string literals
// (`200ms`, `8s`, `1m30s`, `1.5s`, `500us`, `500µs`, `100ns`, `2h`) by
// duration("<literal>"), which Compile folds into a constant. A literal is a
// number directly followed by a unit, repeated, not part of an identifier.
func rewriteDurations(src string) rewritten {
	in := []rune(src)
	var out strings.Builder
	var r rewritten
	newPos := 0 // runes written so far
	for i := 0; i < len(in); {
		c := in[i]
		if c == '"' || c == '\'' || c == '`' {
			j := skipString(in, i)
			out.WriteString(string(in[i:j]))
			newPos += j - i
			i = j
			continue
		}
		if isDigit(c) && (i == 0 || (!isWordRune(in[i-1]) && in[i-1] != '.')) {
			if j := scanDuration(in, i); j > i {
				lit := string(in[i:j])
				repl := `duration("` + lit + `")`
				n := len([]rune(repl))
				r.spans = append(r.spans, span{from: i, to: j, newFrom: newPos, newTo: newPos + n})
				out.WriteString(repl)
				newPos += n
				i = j
				continue
			}
		}
		// Copy a whole word (identifier or number) so that digits inside
		// it (p95) are never taken for the start of a literal.
		j := i + 1
		if isWordRune(c) {
			for j < len(in) && isWordRune(in[j]) {
				j++
			}
		}
		out.WriteString(string(in[i:j]))
		newPos += j - i
		i = j
	}
	r.src = out.String()
	return r
}

// skipString returns the index just past the string literal starting at i
// (or len(in) when it is unterminated). Backslash escapes apply in quoted
// strings, not in backtick ones.
func skipString(in []rune, i int) int {
	q := in[i]
	for j := i + 1; j < len(in); j++ {
		switch {
		case in[j] == '\\' && q != '`':
			j++
		case in[j] == q:
			return j + 1
		}
	}
	return len(in)
}

// scanDuration returns the end of the duration literal starting at i, or i
// when there is none: one or more number+unit pairs, not followed by a
// letter, digit or underscore.
func scanDuration(in []rune, i int) int {
	j := i
	pairs := 0
	for {
		k := j
		digits := 0
		for k < len(in) && isDigit(in[k]) {
			k++
			digits++
		}
		if k < len(in) && in[k] == '.' {
			k++
			for k < len(in) && isDigit(in[k]) {
				k++
				digits++
			}
		}
		if digits == 0 {
			break
		}
		u := unitLen(in[k:])
		if u == 0 {
			break
		}
		j = k + u
		pairs++
	}
	if pairs == 0 || (j < len(in) && isWordRune(in[j])) {
		return i
	}
	return j
}

// unitLen returns the length of the duration unit at the start of in, or 0.
// The longest unit wins ("ms" over "m").
func unitLen(in []rune) int {
	for _, u := range []string{"ns", "us", "µs", "μs", "ms", "s", "m", "h"} {
		ru := []rune(u)
		if len(in) >= len(ru) && string(in[:len(ru)]) == u {
			// "m" followed by "s" was handled by "ms"; "m" followed by
			// another letter is not a unit (the caller rejects it).
			return len(ru)
		}
	}
	return 0
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// original maps a rune offset in the rewritten source back to the original
// source. An offset inside a replaced literal maps to the literal's start.
func (r rewritten) original(off int) int {
	shift := 0 // rewritten minus original offset after the spans passed so far
	for _, s := range r.spans {
		if off < s.newFrom {
			break
		}
		if off < s.newTo {
			return s.from
		}
		shift = s.newTo - s.to
	}
	return off - shift
}
