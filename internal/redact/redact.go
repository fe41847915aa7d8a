// Package redact removes passwords from PostgreSQL connection strings and
// from any text that may contain one: error messages, SQL, log lines.
//
// It works on the text, not on a parse: a connection string that reaches an
// error message is often one that did not parse. Wherever the boundaries of a
// password are ambiguous, it masks more, never less. Three shapes are found:
//
//   - URL userinfo: in `scheme://user:PASSWORD@host`, everything between the
//     first ':' after "://" and the LAST '@' that follows it is the password
//     (so unencoded '@', ':', '/', '?', '#' and spaces in it are covered).
//   - password=VALUE and sslpassword=VALUE (keys case-insensitive, also
//     percent-encoded as in pass%77ord), in key=value strings and URL query
//     parameters. Values follow libpq: unquoted up to whitespace with
//     backslash escapes, or single-quoted with backslash escapes; an
//     unbalanced quote masks to the end of the text. In a URL query a value
//     also ends at "&key=".
//   - SQL: PASSWORD 'literal' (as in CREATE ROLE … PASSWORD '…' and
//     ALTER ROLE/USER … [WITH] [ENCRYPTED] PASSWORD '…'), E'…', U&'…' and
//     dollar-quoted literals, with whitespace and comments (-- … and
//     nested /* … */) between the keyword and the literal; an unterminated
//     literal or comment masks to the end. The value of any setting whose
//     name contains "password": SET [SESSION|LOCAL] name {=|TO} value (also
//     in ALTER ROLE/DATABASE/SYSTEM … SET, a quoted name too) and
//     set_config('…password…', value, …).
//
// A text holding percent-encoded bytes (a URL's options=-c%20app.password%3D…)
// is also decoded, as often as it decodes further, and what the decoded text
// holds is masked where it was written encoded.
//
// A text cannot say what a bare password looks like; [Secret] and [New]
// also remove known passwords (see [Passwords]) in every spelling.
package redact

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// Mask replaces a password.
const Mask = "xxxxx"

// MinSecret is the shortest password (or fragment of one) that [Secret]
// removes from free text: masking shorter strings would mangle ordinary words
// and, by where the masks land, tell the password anyway.
const MinSecret = 4

// Text masks every password-shaped part of free text (error messages, logs,
// SQL). A key=value value ends at whitespace, as libpq reads it.
func Text(s string) string { return mask(s, false) }

// DSN returns the connection string dsn with its passwords masked. It accepts
// URLs and key=value strings, valid or not. Unlike [Text] it knows the whole
// string is one connection string, so it masks more where that is ambiguous:
// a URL query value runs to the next "&key=" even across spaces, and an
// unquoted key=value value runs up to the next " key=".
func DSN(dsn string) string { return mask(dsn, true) }

// Secret masks, beyond what [Text] masks, each of passwords in s: verbatim,
// percent-encoded in whole or in part, backslash-escaped, and each piece of it
// between URL or key=value delimiters. Passwords and pieces shorter than
// [MinSecret] are left to Text. For many calls with the same passwords, use [New].
func Secret(s string, passwords ...string) string { return New(passwords...).String(s) }

// Redactor masks a fixed set of known passwords, plus whatever [Text] masks.
// It is safe for concurrent use.
type Redactor struct {
	known []string // passwords and their pieces, longest first
}

// New returns a Redactor for passwords. Pass it the output of [Passwords] to
// hide every password a connection string holds.
func New(passwords ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, pw := range passwords {
		for _, c := range append([]string{pw}, pieces(pw)...) {
			if len(c) >= MinSecret && !seen[c] {
				seen[c] = true
				r.known = append(r.known, c)
			}
		}
	}
	// Longest first: the whole password must win over its pieces.
	sort.SliceStable(r.known, func(i, j int) bool { return len(r.known[i]) > len(r.known[j]) })
	return r
}

// String returns s with the known passwords and everything [Text] finds masked.
func (r *Redactor) String(s string) string {
	// Known passwords first: Text could mask part of one and leave the rest
	// in a shape that no longer matches it.
	if r != nil && len(r.known) > 0 {
		s = r.maskKnown(s)
	}
	return Text(s)
}

// maskKnown replaces every spelling of a known password in s.
func (r *Redactor) maskKnown(s string) string {
	var b strings.Builder
	at := 0 // s[:at] is written
	for i := 0; i < len(s); {
		end := -1
		for _, pw := range r.known {
			budget := matchBudget
			if end = matchAt(s, i, pw, &budget); end >= 0 {
				break
			}
		}
		if end < 0 {
			i++
			continue
		}
		b.WriteString(s[at:i])
		b.WriteString(Mask)
		at, i = end, end
	}
	if at == 0 {
		return s
	}
	b.WriteString(s[at:])
	return b.String()
}

// matchBudget bounds the work of one matchAt; a text that exhausts it is
// masked to its end (more, never less).
const matchBudget = 1 << 12

// matchAt returns the end of a spelling of pw that starts at s[i], or -1.
// Each byte of pw may be written plain, percent-encoded (hex digits in
// either case), as '+' for a space, and after one backslash (key=value
// escapes, Go's %q).
func matchAt(s string, i int, pw string, budget *int) int {
	if pw == "" {
		return i
	}
	if *budget--; *budget < 0 {
		return len(s)
	}
	c := pw[0]
	for k := i; k <= i+1 && k < len(s); k++ {
		if k > i && s[i] != '\\' {
			break
		}
		next := -1
		switch {
		case s[k] == c, c == ' ' && s[k] == '+':
			next = k + 1
		case s[k] == '%' && k+2 < len(s) && isHex(s[k+1]) && isHex(s[k+2]) && unhex(s[k+1])<<4|unhex(s[k+2]) == c:
			next = k + 3
		}
		if next >= 0 {
			if end := matchAt(s, next, pw[1:], budget); end >= 0 {
				return end
			}
		}
	}
	return -1
}

// Writer returns a writer that writes what it is given to w, through
// [Redactor.String]. Each Write is redacted on its own: fmt.Fprintf and
// friends write a whole message at once. It is safe for concurrent use:
// writes from several goroutines (a run's log lines, its progress line, a
// signal's message) reach w one whole message at a time.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &writer{r: r, w: w} }

type writer struct {
	r  *Redactor
	mu sync.Mutex // serialises writes to w
	w  io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	s := w.r.String(string(p))
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := io.WriteString(w.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Passwords returns every password the connection string dsn holds (URL
// userinfo, password= and sslpassword= values), each as written and decoded
// (percent-decoding, '+' for space, backslash escapes), for [Secret] and [New]. It reads dsn
// the way [DSN] does, so what DSN masks, Passwords returns.
//
// When dsn parses (pgconn.ParseConfig, which also reads PGPASSWORD and the
// password file), the secrets of the parsed configuration are added: its
// password and every run-time parameter whose name
// contains "password".
func Passwords(dsn string) []string {
	out := parsedPasswords(dsn)
	// As written and as decoded, apart: merged, a decoded reading that runs
	// longer would hide the exact value.
	for _, sp := range append(plainSpans(dsn, true), decodedSpans(dsn, true)...) {
		raw := dsn[sp.from:sp.to]
		for _, v := range []string{raw, unescape(raw)} {
			for _, d := range []string{percentDecode(v), percentDecode(strings.ReplaceAll(v, "+", " "))} {
				out = append(out, v, d, unescape(d))
			}
		}
	}
	return out
}

// parsedPasswords returns the secrets of dsn's parsed configuration, or
// nothing when it does not parse.
func parsedPasswords(dsn string) []string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil
	}
	var out []string
	if cfg.Password != "" {
		out = append(out, cfg.Password)
	}
	for k, v := range cfg.RuntimeParams {
		if v != "" && containsFold(k, "password") {
			out = append(out, v)
		}
		// options=-c app.password=… : the settings a parameter carries.
		for _, sp := range spans(v, true) {
			out = append(out, v[sp.from:sp.to], unescape(v[sp.from:sp.to]))
		}
	}
	return out
}

// ConfigError rewrites err when it is pgconn's connection-string parse error
// (or wraps one): pgconn's own text shows its best-effort redaction of the
// string, which leaks parts of malformed passwords, and its causes quote
// pieces of the string. The rewrite reads "invalid connection string
// (REASON): STRING", with the string as [DSN] masks it last (so no mask can
// run into the reason), net/url's errors reduced to their cause, and every
// quoted piece of the string in the reason elided; all of it goes through
// [Secret] with the string's passwords. ok is false for any other error.
func ConfigError(err error) (msg string, ok bool) {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return "", false
	}
	text := pce.Error()
	inner := pce.Unwrap()
	if inner != nil {
		text = strings.TrimSuffix(text, " ("+inner.Error()+")")
	}
	// pgconn's text is "cannot parse `STRING`: REASON"; REASON never holds a backquote.
	reason := text[strings.LastIndex(text, "`: ")+3:]
	var ue *url.Error
	switch {
	case errors.As(inner, &ue):
		reason += ": " + ue.Err.Error()
	case inner != nil:
		reason += ": " + inner.Error()
	}
	reason = quoted.ReplaceAllStringFunc(reason, func(q string) string {
		if len(q) > 3 && strings.Contains(pce.ConnString, q[1:len(q)-1]) {
			return `"…"`
		}
		return q
	})
	msg = fmt.Sprintf("invalid connection string (%s): %s", reason, DSN(pce.ConnString))
	return Secret(msg, Passwords(pce.ConnString)...), true
}

// quoted matches a double-quoted piece of an error message.
var quoted = regexp.MustCompile(`"[^"]*"`)

// span is a half-open byte range of a text to mask.
type span struct{ from, to int }

// mask replaces every span that holds a password with Mask.
func mask(s string, whole bool) string {
	sps := spans(s, whole)
	if len(sps) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, sp := range sps {
		b.WriteString(s[at:sp.from])
		b.WriteString(Mask)
		at = sp.to
	}
	b.WriteString(s[at:])
	return b.String()
}

// Key spellings: any key whose name contains "password" (password,
// sslpassword, my_password_2, …), any case, each letter of "password"
// possibly percent-encoded (the URL parser decodes keys: pass%77ord is
// password).
var (
	keyRE = regexp.MustCompile(`(?i)[a-z0-9_.%-]*` + encodedWord("password") + `[a-z0-9_.%-]*[ \t\n\r\v\f]*=`)
	// SQL: the PASSWORD keyword (then a literal, see sqlValueSpan).
	sqlRE = regexp.MustCompile(`(?i)\bpassword\b`)
	// SQL: SET of a setting whose name holds "password", up to its value.
	setRE = regexp.MustCompile(`(?i)\bset[ \t\n\r\v\f]+(?:(?:session|local)[ \t\n\r\v\f]+)?"?[a-z0-9_.$"]*password[a-z0-9_.$"]*[ \t\n\r\v\f]*(?:=|\bto\b)`)
	// SQL: set_config( and its first argument, a literal naming a setting.
	setConfigRE = regexp.MustCompile(`(?i)\bset_config[ \t\n\r\v\f]*\([ \t\n\r\v\f]*'([^']*)'[ \t\n\r\v\f]*,`)
	// The first literal in a line comment.
	lineLiteral = regexp.MustCompile(`(?i)(?:\b(?:e|u&))?('|\$[a-z0-9_]*\$)`)
	// A literal's opening delimiter: '…', E'…', U&'…' or $tag$…$tag$.
	literalOpen = regexp.MustCompile(`(?i)^(?:e|u&)?('|\$[a-z0-9_]*\$)`)
	// The next key of a key=value string or of a URL query.
	nextKVKey    = regexp.MustCompile(`^[ \t\n\r\v\f]+[^ \t\n\r\v\f=]+[ \t\n\r\v\f]*=`)
	nextQueryKey = regexp.MustCompile(`^&[^&=]*=`)
)

// plainSpans finds the password spans of s as written, sorted and merged.
func plainSpans(s string, whole bool) []span {
	if !strings.Contains(s, "://") && !strings.Contains(s, "%") && !containsFold(s, "password") {
		return nil // the common case: nothing that could hold a password
	}
	var out []span
	out = append(out, userinfoSpans(s)...)
	for _, m := range keyRE.FindAllStringIndex(s, -1) {
		query := m[0] > 0 && (s[m[0]-1] == '?' || s[m[0]-1] == '&')
		if sp, ok := valueSpan(s, m[1], query, whole); ok {
			out = append(out, sp)
		}
	}
	for _, m := range sqlRE.FindAllStringIndex(s, -1) {
		if m[0] > 0 && strings.IndexByte(`._$'"`, s[m[0]-1]) >= 0 {
			continue // inside a name or a literal: app.password, 'password'
		}
		if sp, ok := sqlValueSpan(s, m[1], false); ok {
			out = append(out, sp)
		}
	}
	for _, m := range setRE.FindAllStringIndex(s, -1) {
		if sp, ok := sqlValueSpan(s, m[1], true); ok {
			out = append(out, sp)
		}
	}
	for _, m := range setConfigRE.FindAllStringSubmatchIndex(s, -1) {
		if containsFold(s[m[2]:m[3]], "password") {
			if sp, ok := sqlValueSpan(s, m[1], true); ok {
				out = append(out, sp)
			}
		}
	}
	return merge(out)
}

// spans finds the password spans of s, sorted and merged: those of s as
// written, and those of s percent-decoded (see decodedSpans).
func spans(s string, whole bool) []span {
	out := plainSpans(s, whole)
	if strings.Contains(s, "%") {
		out = merge(append(out, decodedSpans(s, whole)...))
	}
	return out
}

// decodedSpans percent-decodes s and returns the spans of the decoded
// text, mapped back onto s (the decoded text is decoded again by spans, as
// long as it holds %XX).
func decodedSpans(s string, whole bool) []span {
	var d strings.Builder
	at := make([]int, 0, len(s)+1) // at[k]: where decoded byte k starts in s
	for i := 0; i < len(s); i++ {
		at = append(at, i)
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			d.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		d.WriteByte(s[i])
	}
	if d.Len() == len(s) {
		return nil // nothing decoded
	}
	at = append(at, len(s))
	var out []span
	for _, sp := range spans(d.String(), whole) {
		out = append(out, span{at[sp.from], at[sp.to]})
	}
	return out
}

// sqlValueSpan finds the SQL value that starts at or after i, past
// whitespace and comments: a literal ('…', E'…', U&'…', $tag$…$tag$), or,
// when bare, a bare word up to whitespace, ',', ';' or ')' (SET x TO
// word), NULL and DEFAULT excepted. An unterminated comment masks to the
// end of the text.
func sqlValueSpan(s string, i int, bare bool) (span, bool) {
	start := i
	i, ok := skipSQLGap(s, i)
	if !ok {
		return span{i, len(s)}, i < len(s)
	}
	// A statement printed on one line ("PASSWORD--c⏎'…'" flattened to
	// "PASSWORD--c '…'") puts the literal inside the line comment: the
	// first literal of a line comment in the gap is masked too.
	if c := strings.Index(s[start:i], "--"); c >= 0 {
		line := s[start+c : i]
		if m := lineLiteral.FindStringSubmatchIndex(line); m != nil {
			return literalSpan(s, start+c+m[2], start+c+m[3])
		}
	}
	if m := literalOpen.FindStringSubmatchIndex(s[i:]); m != nil {
		return literalSpan(s, i+m[2], i+m[3])
	}
	if !bare {
		return span{}, false
	}
	j := i
	for j < len(s) && !isSpace(s[j]) && strings.IndexByte(",;)", s[j]) < 0 {
		j++
	}
	if w := s[i:j]; j == i || strings.EqualFold(w, "null") || strings.EqualFold(w, "default") {
		return span{}, false
	}
	return span{i, j}, true
}

// skipSQLGap skips whitespace and SQL comments (-- to the end of the line,
// /* … */ nested as PostgreSQL nests them) from i. ok is false when a
// comment does not end (i is then where it starts).
func skipSQLGap(s string, i int) (int, bool) {
	for i < len(s) {
		switch {
		case isSpace(s[i]):
			i++
		case strings.HasPrefix(s[i:], "--"):
			nl := strings.IndexAny(s[i:], "\n\r")
			if nl < 0 {
				return i, false
			}
			i += nl + 1
		case strings.HasPrefix(s[i:], "/*"):
			depth, j := 0, i
			for j < len(s) {
				if strings.HasPrefix(s[j:], "/*") {
					depth, j = depth+1, j+2
				} else if strings.HasPrefix(s[j:], "*/") {
					depth, j = depth-1, j+2
					if depth == 0 {
						break
					}
				} else {
					j++
				}
			}
			if depth > 0 {
				return i, false
			}
			i = j
		default:
			return i, true
		}
	}
	return i, true
}

// userinfoSpans finds URL passwords: after "://", from the first ':' (with
// no '/' before it) to the last '@' in the rest of the text.
func userinfoSpans(s string) []span {
	var out []span
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			return out
		}
		start := i + k + 3
		rest := s[start:]
		last := strings.LastIndexByte(rest, '@')
		if last < 0 {
			return out // no '@' left for any later URL either
		}
		i = start
		c := strings.IndexByte(rest[:last], ':')
		if c < 0 || strings.IndexByte(rest[:c], '/') >= 0 {
			continue
		}
		if c+1 < last {
			out = append(out, span{start + c + 1, start + last})
		}
		i = start + last
	}
}

// valueSpan finds the value that starts at or after i (after "key=").
func valueSpan(s string, i int, query, whole bool) (span, bool) {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return span{}, false
	}
	if s[i] == '\'' {
		end, ok := closeQuote(s, i+1)
		if !ok {
			return span{i, len(s)}, true
		}
		if end == i+1 {
			return span{}, false
		}
		return span{i + 1, end}, true
	}
	j := i
	for j < len(s) {
		c := s[j]
		if c == '\\' {
			j += 2
			continue
		}
		if query && c == '&' && nextQueryKey.MatchString(s[j:]) {
			break
		}
		if isSpace(c) {
			if !whole {
				break
			}
			if !query && nextKVKey.MatchString(s[j:]) {
				break
			}
		}
		j++
	}
	j = min(j, len(s))
	if whole && !query {
		// Trailing whitespace is not part of the value, unless escaped.
		for j > i && isSpace(s[j-1]) && !escaped(s[i:j-1]) {
			j--
		}
	}
	if j == i {
		return span{}, false
	}
	return span{i, j}, true
}

// closeQuote returns the index of the quote that closes a single-quoted
// string whose contents start at i; a backslash escapes the next byte and a
// doubled quote is one quote (SQL), so either reading is covered.
func closeQuote(s string, i int) (int, bool) {
	for i < len(s) {
		switch {
		case s[i] == '\\':
			i += 2
			continue
		case s[i] == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i += 2
			continue
		case s[i] == '\'':
			return i, true
		}
		i++
	}
	return len(s), false
}

// literalSpan finds the contents of the SQL literal whose opening delimiter
// is s[from:to].
func literalSpan(s string, from, to int) (span, bool) {
	if s[from] == '\'' {
		end, ok := closeQuote(s, to)
		if !ok {
			return span{to, len(s)}, to < len(s)
		}
		return span{to, end}, end > to
	}
	tag := s[from:to]
	end := strings.Index(s[to:], tag)
	if end < 0 {
		return span{to, len(s)}, to < len(s)
	}
	return span{to, to + end}, end > 0
}

// merge sorts spans and joins those that overlap or touch.
func merge(sps []span) []span {
	if len(sps) < 2 {
		return sps
	}
	sort.Slice(sps, func(i, j int) bool { return sps[i].from < sps[j].from })
	out := sps[:1]
	for _, sp := range sps[1:] {
		last := &out[len(out)-1]
		if sp.from <= last.to {
			last.to = max(last.to, sp.to)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// escaped reports whether the byte after s is escaped: s ends in an odd
// number of backslashes.
func escaped(s string) bool {
	n := len(s) - len(strings.TrimRight(s, `\`))
	return n%2 == 1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// containsFold reports whether s contains the lower-case ASCII word sub in
// any case, without allocating (Text runs on every error sample).
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == sub[0] && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// encodedWord is a regexp (for use under (?i)) matching word with each
// letter either plain or percent-encoded, in either case.
func encodedWord(word string) string {
	var b strings.Builder
	for i := 0; i < len(word); i++ {
		lo, up := strings.ToLower(word[i : i+1])[0], strings.ToUpper(word[i : i+1])[0]
		fmt.Fprintf(&b, "(?:%s|%%%02x|%%%02x)", regexp.QuoteMeta(word[i:i+1]), lo, up)
	}
	return b.String()
}

// pieces splits pw at the characters that end a URL or key=value component,
// for parsers that kept only part of a malformed password.
func pieces(pw string) []string {
	ps := strings.FieldsFunc(pw, func(r rune) bool {
		return strings.ContainsRune("@:/?#&=,;'\"\\% \t\n\r\v\f", r)
	})
	if len(ps) == 1 && ps[0] == pw {
		return nil
	}
	return ps
}

// unescape removes key=value backslash escapes.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// percentDecode decodes valid %XX sequences and leaves anything else as is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
