package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// errArgs marks a failure to evaluate an args expression.
var errArgs = errors.New("args expression failed")

// sqlstateUndefinedParameter (42P02) is the server's answer to a $n with no
// value: a statement run without args (pgx then uses the simple protocol)
// whose SQL has a parameter.
const sqlstateUndefinedParameter = "42P02"

const sqlstateProtocolViolation = "08P01"

// argsMismatch reports whether err is pgx refusing to send a statement
// because its args do not fit its parameters: a different count ("mismatched
// param and argument count" from Exec, "expected N arguments, got M" from
// Query) or a value it cannot encode as the parameter's type ("failed to
// encode args[i]"). These errors carry no SQLSTATE: the server never saw the
// statement.
func argsMismatch(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "mismatched param and argument count") ||
		expectedArgs.MatchString(msg) ||
		strings.Contains(msg, "failed to encode args[")
}

var expectedArgs = regexp.MustCompile(`expected \d+ arguments, got \d+`)

// bindMismatch reports whether a server error is the server refusing a
// parameter count (08P01 "bind message supplies N parameters, but prepared
// statement requires M", met when pgx does not describe the statement
// first): a protocol violation by class, but the args are wrong, not the
// connection.
func bindMismatch(pgErr *pgconn.PgError) bool {
	return pgErr.Code == sqlstateProtocolViolation && strings.Contains(pgErr.Message, "bind message supplies")
}

// classify puts an operation's failure into a results.Err* category and, for
// server errors, returns its SQLSTATE. A statement whose args do not fit its
// parameters (count or type, see argsMismatch and bindMismatch, or SQLSTATE
// 42P02) is an
// `args` failure: the plan's args are wrong, not the query.
func classify(err error) (category, sqlstate string) {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pool.ErrTimeout):
		return results.ErrAcquireTimeout, ""
	case errors.Is(err, pool.ErrConnect):
		return results.ErrConnect, ""
	case errors.Is(err, errArgs):
		return results.ErrArgs, ""
	case errors.As(err, &pgErr):
		if pgErr.Code == sqlstateUndefinedParameter || bindMismatch(pgErr) {
			return results.ErrArgs, pgErr.Code
		}
		// Class 08 (connection exception) and 57P01..03 (the server is
		// terminating this backend) mean the connection is gone, not the query.
		if strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" {
			return results.ErrBroken, pgErr.Code
		}
		return results.ErrQuery, pgErr.Code
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return results.ErrCancelled, ""
	case argsMismatch(err):
		return results.ErrArgs, ""
	case isBroken(err):
		return results.ErrBroken, ""
	}
	return results.ErrOther, ""
}

func isBroken(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe")
}

// maxErrorSample bounds an error sample, in bytes.
const maxErrorSample = 300

// errorSample is the message kept for a category: the SQLSTATE first when
// there is one, redacted, then cut to maxErrorSample bytes (redacted first,
// so that a password across the cut cannot survive in part).
func errorSample(err error, sqlstate string) string {
	msg := err.Error()
	if sqlstate != "" && !strings.Contains(msg, sqlstate) {
		msg = sqlstate + ": " + msg
	}
	msg = redact.Text(msg)
	if len(msg) > maxErrorSample {
		cut := maxErrorSample
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
