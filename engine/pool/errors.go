package pool

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrTimeout is matched (errors.Is) by the error of an [Pool.Acquire] that
	// waited [Config.Timeout] without getting a connection. The error's text is
	// SQLAlchemy's: "QueuePool limit of size N overflow M reached, connection
	// timed out, timeout 30s".
	ErrTimeout = errors.New("pool timeout")

	// ErrConnect is matched (errors.Is) by the error of an [Pool.Acquire] that
	// had to open a connection and could not. The error also wraps the pgconn
	// error (errors.As to *pgconn.ConnectError); its text names host:port and
	// never the password.
	ErrConnect = errors.New("connect failed")

	// ErrClosed is returned by [Pool.Acquire] after [Pool.Close].
	ErrClosed = errors.New("pool: closed")
)

// timeoutError is the error of a pool timeout. One value per pool, built in
// [New], so that a timeout costs no allocation.
type timeoutError struct {
	msg string
}

func newTimeoutError(size, overflow int, timeout time.Duration) *timeoutError {
	return &timeoutError{msg: fmt.Sprintf(
		"QueuePool limit of size %d overflow %d reached, connection timed out, timeout %s",
		size, overflow, timeout)}
}

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Unwrap() error { return ErrTimeout }

// connectError is the error of a failed connection attempt: its text is
// redacted, it matches ErrConnect and unwraps to the pgconn error.
type connectError struct {
	msg string
	err error
}

func (e *connectError) Error() string   { return e.msg }
func (e *connectError) Unwrap() []error { return []error{ErrConnect, e.err} }
