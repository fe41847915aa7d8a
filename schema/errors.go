package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a plan file, at a position, with an optional hint
// that says how to fix it.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string
	// Err is the underlying error, when there is one (a file that cannot be
	// read, a YAML syntax error); nil for problems found in the plan itself.
	Err error
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Error renders `file:line:col: msg (hint: ...)`.
func (e *Error) Error() string {
	s := e.Pos.String() + ": " + e.Msg
	if e.Hint != "" {
		s += "\n    hint: " + e.Hint
	}
	return s
}

// Errors is every problem found in a plan, reported at once.
type Errors []*Error

// Add appends an error at pos.
func (es *Errors) Add(pos Pos, hint, format string, args ...any) {
	*es = append(*es, &Error{Pos: pos, Msg: sprintf(format, args...), Hint: hint})
}

// Err returns nil when there are no errors, otherwise the sorted list.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	es.Sort()
	return es
}

// Sort orders errors by file, line, column.
func (es Errors) Sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Unwrap returns the entries, so that errors.Is and errors.As see through
// the list to each [*Error] and its cause (errors.Is(err, fs.ErrNotExist)
// for a missing file).
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Error renders one error per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
