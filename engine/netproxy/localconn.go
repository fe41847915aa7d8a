package netproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// A client in the proxy's own process can skip the client-side socket:
// DialContext returns a net.Conn whose writes the proxy stamps and queues
// at once, on the writer's goroutine, and to which the clock delivers the
// server's bytes by copying them into its receive buffer. Per chunk that
// saves a socket write, two socket reads and the wake-up of a reader
// goroutine in one direction, and a socket write and a reader's two
// socket reads in the other, which were most of the proxy's CPU in
// planrun's own process. Everything else is as for an accepted
// connection: the latency, jitter, bandwidth, faults and lateness, the
// upstream connection and its reader, ConnStats, Reset and Close.

// localBuffer bounds a local connection's received bytes not yet read: a
// full buffer makes the proxy wait, as a full socket buffer does.
const localBuffer = 256 << 10

// localAddr is a local connection's address, both ends.
type localAddr struct{}

func (localAddr) Network() string { return "netproxy" }
func (localAddr) String() string  { return "netproxy-local" }

// DialContext opens a connection through the proxy from this process,
// without a socket on the client's side (see above). It dials the upstream
// first, bounded by ctx and Config.DialTimeout, and returns its error.
// The connection's write deadline only bounds a Write that starts after
// it; a Write waits for room in the queue only during a long stall.
func (p *Proxy) DialContext(ctx context.Context) (net.Conn, error) {
	lc := &localConn{
		closed:   make(chan struct{}),
		readable: make(chan struct{}, 1),
		room:     make(chan struct{}, 1),
	}
	c := &conn{proxy: p, client: lc, done: make(chan struct{})}
	lc.c = c
	if !p.register(c) {
		return nil, fmt.Errorf("netproxy: dial: %w", net.ErrClosed)
	}
	defer p.wg.Done() // the slot register took, for this call
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(p.dialCtx, cancel) // Close cancels the dial
	defer stop()
	up, err := c.dialUpstream(ctx)
	if err != nil {
		return nil, fmt.Errorf("netproxy: dial the upstream: %w", err)
	}
	toServer, toClient, ok := c.pipes(up, p.seq.Add(1))
	if !ok {
		return nil, fmt.Errorf("netproxy: dial: %w", net.ErrClosed)
	}
	lc.mu.Lock()
	lc.toServer = toServer
	shut := lc.err != nil
	lc.mu.Unlock()
	if shut { // by a Reset or Close meanwhile: toServer's writer must end too
		toServer.endRead()
	}
	p.wg.Add(3)
	go func() { defer p.wg.Done(); toServer.write() }()
	go func() { defer p.wg.Done(); toClient.read() }()
	go func() { defer p.wg.Done(); toClient.write() }()
	return lc, nil
}

// localConn is the client's end of a connection opened by DialContext.
type localConn struct {
	c *conn

	// wmu serialises Writes: the one in progress owns toServer's read
	// state (its jitter and bandwidth bookkeeping).
	wmu sync.Mutex

	mu sync.Mutex
	// toServer is the pipe Write feeds; set once the upstream is dialled.
	toServer *pipe
	// in[off:] are the bytes delivered and not yet read.
	in  []byte
	off int
	// err is what Read returns once in is empty, nil while open: io.EOF
	// once the proxy closed the pair, net.ErrClosed after Close.
	err                     error
	readDeadline, writeDead time.Time
	closed                  chan struct{} // closed by shut
	readable                chan struct{} // buffered 1: in grew, err was set or the read deadline moved
	room                    chan struct{} // buffered 1: a Read made room in in
}

// localSink is the side of a localConn the proxy delivers to (a pipe's
// dst): Write blocks until there is room, or the connection is shut.
type localSink struct{ lc *localConn }

func (s *localSink) Write(b []byte) (int, error) {
	written := 0
	for {
		n := s.lc.offer(b[written:])
		written += n
		if written == len(b) {
			return written, nil
		}
		select {
		case <-s.lc.room:
		case <-s.lc.closed:
			return written, net.ErrClosed
		}
	}
}

// offer appends what fits of b to the bytes to read, without waiting; 0
// once the connection is shut.
func (lc *localConn) offer(b []byte) int {
	lc.mu.Lock()
	if lc.err != nil {
		lc.mu.Unlock()
		return 0
	}
	n := min(len(b), localBuffer-(len(lc.in)-lc.off))
	lc.in = append(lc.in, b[:n]...)
	lc.mu.Unlock()
	if n > 0 {
		signal(lc.readable)
	}
	return n
}

// shut ends the connection: Read returns err once what was delivered is
// read, Write fails, and the proxy's writer towards the server delivers
// what is queued and then closes the pair, as after a client's socket
// reached EOF.
func (lc *localConn) shut(err error) {
	lc.mu.Lock()
	if lc.err != nil {
		lc.mu.Unlock()
		return
	}
	lc.err = err
	close(lc.closed) // a Write in progress gives up queueing
	toServer := lc.toServer
	lc.mu.Unlock()
	signal(lc.readable)
	if toServer != nil { // else DialContext ends it once set up
		toServer.endRead()
	}
}

// Read reads what the proxy delivered; once the connection is shut and
// everything delivered is read, it returns io.EOF (the proxy closed the
// pair) or net.ErrClosed (after Close).
func (lc *localConn) Read(b []byte) (int, error) {
	for {
		lc.mu.Lock()
		if lc.off < len(lc.in) {
			n := copy(b, lc.in[lc.off:])
			lc.off += n
			if lc.off == len(lc.in) {
				lc.in, lc.off = lc.in[:0], 0
			}
			lc.mu.Unlock()
			signal(lc.room)
			return n, nil
		}
		err, deadline := lc.err, lc.readDeadline
		lc.mu.Unlock()
		if err != nil {
			return 0, err
		}
		var expired <-chan time.Time
		if !deadline.IsZero() {
			wait := time.Until(deadline)
			if wait <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-lc.readable:
		case <-expired:
		}
	}
}

// Write queues b for delivery to the server, as the proxy's reader queues
// what it reads from an accepted connection.
func (lc *localConn) Write(b []byte) (int, error) {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	lc.mu.Lock()
	err, deadline, toServer := lc.err, lc.writeDead, lc.toServer
	lc.mu.Unlock()
	switch {
	case errors.Is(err, io.EOF):
		return 0, syscall.EPIPE // the proxy closed the pair, as a socket's peer
	case err != nil:
		return 0, err
	case !deadline.IsZero() && !time.Now().Before(deadline):
		return 0, os.ErrDeadlineExceeded
	}
	written := 0
	for written < len(b) {
		buf := buffers.Get().(*[]byte)
		n := copy(*buf, b[written:])
		queued, ok := toServer.forward(buf, n, lc.closed)
		if !queued {
			buffers.Put(buf)
		}
		if !ok {
			return written, net.ErrClosed
		}
		written += n
	}
	return written, nil
}

// Close shuts the connection (see shut).
func (lc *localConn) Close() error {
	lc.shut(net.ErrClosed)
	return nil
}

func (lc *localConn) LocalAddr() net.Addr  { return localAddr{} }
func (lc *localConn) RemoteAddr() net.Addr { return localAddr{} }

func (lc *localConn) SetDeadline(t time.Time) error {
	lc.mu.Lock()
	lc.readDeadline, lc.writeDead = t, t
	lc.mu.Unlock()
	signal(lc.readable)
	return nil
}

func (lc *localConn) SetReadDeadline(t time.Time) error {
	lc.mu.Lock()
	lc.readDeadline = t
	lc.mu.Unlock()
	signal(lc.readable)
	return nil
}

func (lc *localConn) SetWriteDeadline(t time.Time) error {
	lc.mu.Lock()
	lc.writeDead = t
	lc.mu.Unlock()
	return nil
}
