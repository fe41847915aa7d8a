package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// errArgs marks a failure to evaluate an args expression.
var errArgs = errors.New("args expression failed")

// classify puts an operation's failure into a results.Err* category and, for
// server errors, returns its SQLSTATE.
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
		// Class 08 (connection exception) and 57P01..03 (the server is
		// terminating this backend) mean the connection is gone, not the query.
		if strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" {
			return results.ErrBroken, pgErr.Code
		}
		return results.ErrQuery, pgErr.Code
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return results.ErrCancelled, ""
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

// errorSample is the message kept for a category: the SQLSTATE first when
// there is one, redacted.
func errorSample(err error, sqlstate string) string {
	msg := err.Error()
	if sqlstate != "" && !strings.Contains(msg, sqlstate) {
		msg = sqlstate + ": " + msg
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return redact.Text(msg)
}
