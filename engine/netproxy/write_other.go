//go:build !unix

package netproxy

import (
	"net"
	"syscall"
)

// nonBlockingWriter is nil off Unix: the writer goroutines deliver every
// delayed chunk.
func nonBlockingWriter(net.Conn) syscall.RawConn { return nil }

func (pp *pipe) tryOnce(uintptr) bool { return true }
