package schema

import "strings"

// placeholder is one `$n` parameter in SQL text: its number and the byte
// offset of its `$`.
type placeholder struct {
	n   int
	off int
}

// maxPlaceholder is the highest parameter number PostgreSQL's protocol can
// carry (a 16-bit count); larger numbers are kept as maxPlaceholder+1.
const maxPlaceholder = 65535

// placeholders returns the `$n` parameters of PostgreSQL SQL text in order.
// It follows PostgreSQL's lexer where `$` can appear without being a
// parameter: string constants ('...', E'...' with backslash escapes, and
// the U&, B, X, N prefixes), quoted identifiers ("..."), dollar-quoted
// strings ($$...$$, $tag$...$tag$), line comments (--) and nested block
// comments (/* ... */), and identifiers, which may contain `$` after their
// first character (a$1 is one name). Unterminated quotes and comments run to
// the end of the text, as they do for PostgreSQL (which then rejects it).
func placeholders(sql string) []placeholder {
	var out []placeholder
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'':
			i = skipSQLQuoted(sql, i, '\'', false)
		case c == '"':
			i = skipSQLQuoted(sql, i, '"', false)
		case (c == 'E' || c == 'e') && i+1 < len(sql) && sql[i+1] == '\'':
			i = skipSQLQuoted(sql, i+1, '\'', true)
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			i = skipBlockComment(sql, i)
		case c == '$' && i+1 < len(sql) && isDigit(sql[i+1]):
			j, n := i+1, 0
			for ; j < len(sql) && isDigit(sql[j]); j++ {
				n = min(n*10+int(sql[j]-'0'), maxPlaceholder+1)
			}
			out = append(out, placeholder{n: n, off: i})
			i = j
		case c == '$':
			i = skipDollarQuoted(sql, i)
		case isIdentStart(c):
			for i++; i < len(sql) && (isIdentStart(sql[i]) || isDigit(sql[i]) || sql[i] == '$'); i++ {
			}
		case isDigit(c):
			// A number: digits, and the letters and dots of 1.5e3, so
			// that what follows a digit is never read as a name.
			for i++; i < len(sql) && (isDigit(sql[i]) || isIdentStart(sql[i]) || sql[i] == '.'); i++ {
			}
		default:
			i++
		}
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart reports whether c may start a PostgreSQL identifier (bytes
// of multi-byte UTF-8 runes included).
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

// skipSQLQuoted returns the offset after the quoted text starting at
// sql[i] == q; a doubled quote is a quote, and with backslash a backslash
// escapes the next byte (E'...').
func skipSQLQuoted(sql string, i int, q byte, backslash bool) int {
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

// skipBlockComment returns the offset after the comment that starts at
// sql[i:] == "/*"; block comments nest.
func skipBlockComment(sql string, i int) int {
	depth := 0
	for j := i; j+1 < len(sql); j++ {
		switch {
		case sql[j] == '/' && sql[j+1] == '*':
			depth++
			j++
		case sql[j] == '*' && sql[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(sql)
}

// skipDollarQuoted returns the offset after the dollar-quoted string that
// starts at sql[i] == '$' ($$...$$ or $tag$...$tag$, where tag is a name
// that does not start with a digit), or i+1 when no delimiter starts there.
func skipDollarQuoted(sql string, i int) int {
	j := i + 1
	if j < len(sql) && isIdentStart(sql[j]) {
		for j++; j < len(sql) && (isIdentStart(sql[j]) || isDigit(sql[j])); j++ {
		}
	}
	if j >= len(sql) || sql[j] != '$' {
		return i + 1
	}
	delim := sql[i : j+1]
	if k := strings.Index(sql[j+1:], delim); k >= 0 {
		return j + 1 + k + len(delim)
	}
	return len(sql)
}

// declaresParameters reports whether a statement's `$n` belong to a body
// it declares rather than to its own arguments: PREPARE name AS ..., and
// CREATE [OR REPLACE] FUNCTION / PROCEDURE with a SQL-standard body (BEGIN
// ATOMIC ... END, RETURN ...).
func declaresParameters(sql string) bool {
	words := leadingWords(sql, 4)
	switch {
	case len(words) >= 1 && words[0] == "PREPARE":
		return true
	case len(words) >= 2 && words[0] == "CREATE":
		w := words[1:]
		if len(w) >= 2 && w[0] == "OR" && w[1] == "REPLACE" {
			w = w[2:]
		}
		return len(w) >= 1 && (w[0] == "FUNCTION" || w[0] == "PROCEDURE")
	}
	return false
}

// leadingWords returns up to n leading words of sql, upper-cased, after
// blanks and comments.
func leadingWords(sql string, n int) []string {
	var words []string
	for i := 0; i < len(sql) && len(words) < n; {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case strings.HasPrefix(sql[i:], "/*"):
			i = skipBlockComment(sql, i)
		case isIdentStart(c):
			j := i + 1
			for ; j < len(sql) && (isIdentStart(sql[j]) || isDigit(sql[j]) || sql[j] == '$'); j++ {
			}
			words = append(words, strings.ToUpper(sql[i:j]))
			i = j
		default:
			return words
		}
	}
	return words
}
