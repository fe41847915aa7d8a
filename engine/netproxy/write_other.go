//go:build !unix

package netproxy

import (
	"io"
	"syscall"
)

// nonBlockingWriter is nil off Unix: the writer goroutines deliver every
// delayed chunk.
func nonBlockingWriter(io.Writer) syscall.RawConn { return nil }

func (pp *pipe) tryOnce(uintptr) bool { return true }
