package preflight

import (
	"regexp"
	"strings"
	"unicode"
)

// setupCreates lists the relations a plan's setup creates for the pool's
// connections, read from its SQL without running it: CREATE TABLE (also
// AS, IF NOT EXISTS, UNLOGGED), CREATE FOREIGN TABLE, CREATE [OR REPLACE]
// [RECURSIVE] VIEW, CREATE MATERIALIZED VIEW, CREATE SEQUENCE and SELECT ...
// INTO. Each name is as the server folds it: unquoted names in lower case,
// schema-qualified ones with their schema ("app.accounts"). Temporary
// relations are left out: setup runs on planrun's own connection, and the
// pool's connections never see them: they are listed in temp. What setup
// creates in other ways (a DO block, a function it calls, a restored dump)
// is not seen.
func setupCreates(setup []string) (created, temp []string) {
	seen := map[string]bool{}
	for _, sql := range setup {
		for _, stmt := range splitStatements(sqlTokens(sql)) {
			name, isTemp, ok := createdRelation(stmt)
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			if isTemp {
				temp = append(temp, name)
			} else {
				created = append(created, name)
			}
		}
	}
	return created, temp
}

// sqlToken is a word (a keyword or an identifier: unquoted ones folded to
// lower case, quoted ones as written) or one punctuation character.
type sqlToken struct {
	word   string
	quoted bool
	punct  byte
}

// is reports whether t is the unquoted keyword kw (lower case).
func (t sqlToken) is(kw string) bool { return !t.quoted && t.word == kw }

// sqlTokens splits sql into words and punctuation, skipping white space,
// comments, string constants and dollar-quoted bodies.
func sqlTokens(sql string) []sqlToken {
	var out []sqlToken
	s := sql
	for len(s) > 0 {
		r := rune(s[0])
		switch {
		case unicode.IsSpace(r):
			s = s[1:]
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
			} else {
				s = ""
			}
		case strings.HasPrefix(s, "/*"):
			s = skipBlockComment(s)
		case r == '\'':
			escapes := len(out) > 0 && !out[len(out)-1].quoted && out[len(out)-1].word == "e" && len(out[len(out)-1].word) == 1
			s = skipString(s, escapes)
		case r == '"':
			word, rest := quotedIdent(s)
			out = append(out, sqlToken{word: word, quoted: true})
			s = rest
		case r == '$':
			if rest, ok := skipDollarQuote(s); ok {
				s = rest
				continue
			}
			s = s[1:] // a parameter ($1): its digits follow as a word
			out = append(out, sqlToken{punct: '$'})
		case r == '_' || r >= 0x80 || unicode.IsLetter(r) || unicode.IsDigit(r):
			end := strings.IndexFunc(s, func(r rune) bool {
				return !(r == '_' || r == '$' || r >= 0x80 || unicode.IsLetter(r) || unicode.IsDigit(r))
			})
			if end < 0 {
				end = len(s)
			}
			out = append(out, sqlToken{word: strings.ToLower(s[:end])})
			s = s[end:]
		default:
			out = append(out, sqlToken{punct: s[0]})
			s = s[1:]
		}
	}
	return out
}

// skipBlockComment skips a /* */ comment, nested ones included.
func skipBlockComment(s string) string {
	depth := 0
	for i := 0; i+1 < len(s); i++ {
		switch s[i : i+2] {
		case "/*":
			depth++
			i++
		case "*/":
			depth--
			i++
			if depth == 0 {
				return s[i+1:]
			}
		}
	}
	return ""
}

// skipString skips a '...' constant: a doubled quote inside it is a
// quote, and with escapes (an E'...' constant) so is a backslashed one.
func skipString(s string, escapes bool) string {
	for i := 1; i < len(s); i++ {
		switch {
		case escapes && s[i] == '\\':
			i++
		case s[i] == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == '\'':
			return s[i+1:]
		}
	}
	return ""
}

// quotedIdent reads a "..." identifier ("" inside it is a quote).
func quotedIdent(s string) (string, string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] == '"' {
			if i+1 < len(s) && s[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			return b.String(), s[i+1:]
		}
		b.WriteByte(s[i])
	}
	return b.String(), ""
}

// dollarTag matches the opening tag of a dollar-quoted body: $$ or $tag$.
var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z_0-9]*)?\$`)

// skipDollarQuote skips a dollar-quoted body ($$...$$, $fn$...$fn$); ok is
// false when s does not start one.
func skipDollarQuote(s string) (string, bool) {
	tag := dollarTag.FindString(s)
	if tag == "" {
		return s, false
	}
	if i := strings.Index(s[len(tag):], tag); i >= 0 {
		return s[len(tag)+i+len(tag):], true
	}
	return "", true
}

// splitStatements splits tokens at the semicolons.
func splitStatements(tokens []sqlToken) [][]sqlToken {
	var out [][]sqlToken
	start := 0
	for i, t := range tokens {
		if t.punct == ';' {
			if i > start {
				out = append(out, tokens[start:i])
			}
			start = i + 1
		}
	}
	if start < len(tokens) {
		out = append(out, tokens[start:])
	}
	return out
}

// createdRelation returns the relation a statement creates, when it is
// one setupCreates knows, and whether it is temporary.
func createdRelation(st []sqlToken) (name string, temp, ok bool) {
	at := func(i int, kw string) bool { return i < len(st) && st[i].is(kw) }
	switch {
	case at(0, "create"):
		i := 1
		if at(i, "or") && at(i+1, "replace") {
			i += 2
		}
		if at(i, "global") || at(i, "local") {
			i++
		}
		if at(i, "temp") || at(i, "temporary") {
			temp = true
			i++
		}
		if at(i, "unlogged") {
			i++
		}
		switch {
		case at(i, "table"), at(i, "view"), at(i, "sequence"):
			i++
		case at(i, "foreign") && at(i+1, "table"), at(i, "materialized") && at(i+1, "view"), at(i, "recursive") && at(i+1, "view"):
			i += 2
		default:
			return "", false, false
		}
		if at(i, "if") && at(i+1, "not") && at(i+2, "exists") {
			i += 3
		}
		name, ok = qualifiedName(st[i:])
		return name, temp, ok
	case at(0, "select"), at(0, "with"):
		// SELECT ... INTO [TEMP | UNLOGGED] [TABLE] name, at the top level
		// (not INSERT INTO, nor inside parentheses).
		depth := 0
		for i, t := range st {
			switch {
			case t.punct == '(':
				depth++
			case t.punct == ')':
				depth--
			case depth == 0 && t.is("into") && i > 0 && !st[i-1].is("insert") && !st[i-1].is("merge"):
				j := i + 1
				if at(j, "temp") || at(j, "temporary") {
					temp = true
					j++
				}
				if at(j, "unlogged") {
					j++
				}
				if at(j, "table") {
					j++
				}
				name, ok = qualifiedName(st[j:])
				return name, temp, ok
			}
		}
	}
	return "", false, false
}

// qualifiedName reads name[.name...] at the start of st, as the server
// folds it.
func qualifiedName(st []sqlToken) (string, bool) {
	var parts []string
	for i := 0; i < len(st); i += 2 {
		if st[i].word == "" {
			return "", false
		}
		parts = append(parts, st[i].word)
		if i+1 >= len(st) || st[i+1].punct != '.' {
			break
		}
	}
	if len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, "."), true
}

// missingRelation matches the server's message for a relation that does
// not exist (in English: other message languages are not matched).
var missingRelation = regexp.MustCompile(`^relation "(.+)" does not exist$`)

// createdBySetup returns the relation of created that the server's message
// msg says does not exist: the same name, or the same relation name when
// one of the two is not schema-qualified (the search_path decides which
// schema an unqualified name means; a run checks the statement again after
// setup). "" when none matches.
func createdBySetup(msg string, created []string) string {
	m := missingRelation.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	missing := m[1]
	for _, c := range created {
		if c == missing {
			return c
		}
	}
	last := func(s string) (string, bool) {
		i := strings.LastIndexByte(s, '.')
		return s[i+1:], i >= 0
	}
	mRel, mQual := last(missing)
	for _, c := range created {
		if cRel, cQual := last(c); cRel == mRel && (!cQual || !mQual) {
			return c
		}
	}
	return ""
}
