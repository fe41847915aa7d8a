package report

import (
	"reflect"

	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/results"
)

// printableRun is what the terminal table and JUnit print: run redacted
// (see [Redact]), with the control characters of every string (names, SQL,
// server messages, reasons) replaced by visible escapes ([printable.String]:
// ESC becomes \x1b, NUL \x00; tab and newline stay). Map keys (error
// categories, SQLSTATEs, close reasons) are kept for lookups; their printers
// escape them. The markdown needs none of this: [markdown.Text] and
// [markdown.Code] escape on their own.
func printableRun(run *results.Run) *results.Run {
	run = redacted(run)
	out := scrub(reflect.ValueOf(*run), printable.String).Interface().(results.Run)
	return &out
}
