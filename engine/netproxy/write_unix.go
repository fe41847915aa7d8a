//go:build unix

package netproxy

import (
	"errors"
	"io"
	"syscall"
)

// nonBlockingWriter is dst's descriptor, for writes that do not block
// (tryOnce); nil if dst has none.
func nonBlockingWriter(dst io.Writer) syscall.RawConn {
	sc, ok := dst.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// tryOnce writes pp.tryBuf to fd, which Go's poller keeps non-blocking,
// until it is written or the socket's buffer is full; it sets tryN and
// tryErr. It never asks to wait for the descriptor.
func (pp *pipe) tryOnce(fd uintptr) bool {
	for pp.tryN < len(pp.tryBuf) {
		n, err := syscall.Write(int(fd), pp.tryBuf[pp.tryN:])
		if n > 0 {
			pp.tryN += n
		}
		switch {
		case err == nil:
		case errors.Is(err, syscall.EINTR):
		case errors.Is(err, syscall.EAGAIN):
			return true
		default:
			pp.tryErr = err
			return true
		}
	}
	return true
}
