package service

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/planrun/planrun/internal/redact"
)

// secretWords are the parts of an env variable's name that make its value
// a secret (compared in any case): API_TOKEN, SECRET_KEY, DB_PASSWORD,
// AWS_SECRET_ACCESS_KEY, PGPASSWD, AUTH_HEADER, GOOGLE_CREDENTIALS.
var secretWords = []string{"token", "key", "secret", "password", "passwd", "auth", "credential"}

// SecretName reports whether an env variable named name holds a secret:
// its name contains token, key, secret, password, passwd, auth or
// credential, in any case.
func SecretName(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// Secrets returns what no message about s may show: the passwords in
// DatabaseURL and URL (as [redact.Passwords] finds them), the values of the Env
// variables whose names look like secrets ([SecretName]), and the passwords
// any other Env value holds (a second database URL). Hand them to
// [redact.New] to mask them in planrun's own output as this package does;
// as there, values shorter than [redact.MinSecret] are not masked.
func (s Spec) Secrets() []string {
	out := append(redact.Passwords(s.DatabaseURL), redact.Passwords(s.URL)...)
	names := make([]string, 0, len(s.Env))
	for k := range s.Env {
		names = append(names, k)
	}
	sort.Strings(names) // a stable order for a stable redactor
	for _, k := range names {
		v := s.Env[k]
		if SecretName(k) && v != "" {
			out = append(out, v)
		}
		out = append(out, redact.Passwords(v)...)
	}
	return out
}

// redactedError is an error whose text was redacted; errors.Is and As still
// see its cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr returns err with its text passed through red.
func redactErr(red *redact.Redactor, err error) error {
	return &redactedError{msg: red.String(err.Error()), err: err}
}

// Bounds of the log excerpt an error quotes.
const (
	tailLines    = 20
	tailBytes    = 8 << 10
	tailLineSize = 400 // bytes per line; the rest is cut with "…"
)

// tailError is an error of a started service followed by its log's last
// lines (tailMessage), with the Python module the log says is missing.
type tailError struct {
	err    error
	tail   string
	module string
}

func (e *tailError) Error() string { return e.err.Error() + "\n" + e.tail }
func (e *tailError) Unwrap() error { return e.err }

// withTail returns err followed by the sentence naming the log file, with
// its last lines (see [MissingModule]).
func (p *Process) withTail(err error) error {
	lines, _ := tail(p.log, tailLines) // tailMessage says why it cannot be read
	return &tailError{err: err, tail: p.tailMessage(), module: missingModule(lines, p.red)}
}

// MissingModule returns the Python module the service's interpreter lacks
// when err is [Start]'s error for a started service whose log's last lines
// (20) hold Python's "No module named X" (a ModuleNotFoundError, or an
// ImportError of Python 2), the last one if several; "" otherwise. The name
// is redacted and escaped like the lines the error quotes.
func MissingModule(err error) string {
	var t *tailError
	if errors.As(err, &t) {
		return t.module
	}
	return ""
}

// noModule matches Python's message for a missing module, quoted
// (Python 3: No module named 'fastapi') or not (Python 2).
var noModule = regexp.MustCompile(`No module named ['"]?([A-Za-z0-9_.]+)`)

// missingModule is the module the last "No module named" of lines names.
func missingModule(lines []string, red *redact.Redactor) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if m := noModule.FindStringSubmatch(lines[i]); m != nil {
			return printable(red.String(m[1]))
		}
	}
	return ""
}

// tailMessage is the sentence naming the log file, with its last lines,
// redacted, for an error.
func (p *Process) tailMessage() string {
	lines, err := tail(p.log, tailLines)
	switch {
	case err != nil:
		return fmt.Sprintf("The service's log %s cannot be read: %v", p.log, err)
	case len(lines) == 0:
		return fmt.Sprintf("The service's log %s is empty.", p.log)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The service's log is %s; its last lines:", p.log)
	for i := 0; i < len(lines); {
		n := 1 // a line repeated (a poll's log line) is shown once
		for i+n < len(lines) && lines[i+n] == lines[i] {
			n++
		}
		b.WriteString("\n")
		if lines[i] != "" {
			b.WriteString("    " + printable(p.red.String(lines[i])))
		}
		if n > 1 {
			fmt.Fprintf(&b, "\n    (the same line %d times)", n)
		}
		i += n
	}
	return b.String()
}

// tail returns the last n lines of the file at path (of its last 8 KiB).
func tail(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(st.Size()-tailBytes, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, err
	}
	text := string(buf)
	if off > 0 {
		// The first line is cut: drop it.
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:]
		}
	}
	lines := strings.Split(strings.TrimRight(text, "\r\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil, nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines, nil
}

// printable escapes control characters and invalid UTF-8 (a terminal
// would act on them) and cuts the line at tailLineSize bytes.
func printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		if b.Len() >= tailLineSize {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && len(s[i:]) > 0:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
				continue
			}
			b.WriteRune(r)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
