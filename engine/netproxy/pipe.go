package netproxy

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"time"
)

// chunkSize is the most one read takes from a socket.
const chunkSize = 32 << 10

// queueLen bounds the chunks read but not yet delivered in one direction
// (at most queueLen × chunkSize bytes); a full queue blocks the reader,
// so the sender feels back-pressure as from a full socket buffer.
const queueLen = 64

var buffers = sync.Pool{New: func() any {
	b := make([]byte, chunkSize)
	return &b
}}

// chunk is bytes read from one side and the time they may be delivered
// to the other.
type chunk struct {
	buf     *[]byte
	n       int
	release time.Time
	// started: its write began (its lateness is recorded), off bytes of it
	// are written; the rest goes out without waiting again.
	started bool
	off     int
}

// Who delivers a pipe's queued chunks (pipe.owner).
const (
	// ownIdle: nothing is queued; the reader may write a due chunk itself.
	ownIdle = iota
	// ownClock: the clock delivers them at their times (flush), with
	// writes that do not block.
	ownClock
	// ownWriter: the pipe's writer goroutine delivers them, with writes
	// that block: after a write that would have blocked (a receiver that
	// does not keep up), during a stall, where dst has no descriptor to
	// write to without blocking, and to end the pipe.
	ownWriter
)

// pipe is one direction of a connection: read from src, deliver to dst.
//
// The reader stamps each chunk with its delivery time and, unless it
// can write it at once, queues it; the first chunk queued on an idle pipe
// gives the pipe to the clock. The clock writes due chunks on its own
// thread and hands the pipe to the writer goroutine when it cannot (see
// the owners above); each owner gives the pipe back as idle once the
// queue is empty. Exactly one owner delivers at a time, so bytes stay in
// order.
type pipe struct {
	conn *conn
	// src is read by read (nil when a local connection's writes feed the
	// pipe: localConn.Write); dst is written to, blocking.
	src net.Conn
	dst io.Writer
	// raw is dst's descriptor for the clock's writes; sink is dst when it
	// is a local connection's receiving side (localconn.go). With neither,
	// the writer goroutine delivers everything.
	raw  syscall.RawConn
	sink *localConn
	rng  *rand.Rand // owned by forward's caller (read, or a local Write)
	// transmitted is when the previous chunk finished going through the
	// bandwidth limit; released is its delivery time. Owned as rng.
	transmitted, released time.Time

	mu sync.Mutex
	// q holds n chunks from head, in order.
	q           [queueLen]chunk
	head, n     int
	owner       int
	clockBusy   bool // the clock is in flush (it may be writing)
	readDone    bool // read has ended: nothing more will be queued
	space, work chan struct{}
	// wrote is when the previous write ended; its deliverer (the owner, or
	// the reader writing at once) sets it.
	wrote time.Time

	wake chan struct{} // the clock wakes the writer on it; buffered 1
	// try is the clock's write attempt: tryWrite's closure, made once.
	try    func(fd uintptr) bool
	tryBuf []byte
	tryN   int
	tryErr error
}

func newPipe(c *conn, src net.Conn, dst io.Writer, rng *rand.Rand) *pipe {
	pp := &pipe{
		conn: c, src: src, dst: dst, rng: rng,
		space: make(chan struct{}, 1), work: make(chan struct{}, 1), wake: make(chan struct{}, 1),
	}
	if lc, ok := dst.(*localSink); ok {
		pp.sink = lc.lc
	} else {
		pp.raw = nonBlockingWriter(dst)
	}
	pp.try = pp.tryOnce
	return pp
}

// signal sends on ch, buffered 1, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// read queues what src sends until src ends or the pair is closed.
func (pp *pipe) read() {
	defer pp.endRead()
	buf := buffers.Get().(*[]byte)
	defer func() { buffers.Put(buf) }()
	for {
		n, err := pp.src.Read(*buf)
		if n > 0 {
			queued, ok := pp.forward(buf, n, nil)
			if !ok {
				return
			}
			if queued {
				buf = buffers.Get().(*[]byte)
			}
		}
		if err != nil {
			return
		}
	}
}

// endRead notes that nothing more will be queued and wakes the writer,
// which delivers what is queued and then closes the pair.
func (pp *pipe) endRead() {
	pp.mu.Lock()
	pp.readDone = true
	pp.mu.Unlock()
	signal(pp.work)
}

// forward stamps the n bytes read into buf with their delivery time and
// queues them, keeping buf (queued); a chunk that is due at once, with
// nothing queued before it and no stall, it writes itself, which saves
// the hand-over to the clock, and leaves buf to the caller. It returns
// false when the pair is closed (or stop is closed) first, or the write
// fails. Its caller owns the pipe's read state: one forward at a time.
func (pp *pipe) forward(buf *[]byte, n int, stop <-chan struct{}) (queued, ok bool) {
	now := time.Now()
	release := pp.releaseTime(n, now)
	pp.mu.Lock()
	if pp.n == 0 && pp.owner == ownIdle && !pp.conn.proxy.stalled.Load() && !release.After(now) {
		pp.mu.Unlock()
		pp.conn.lat.record(now.Sub(latest(release, pp.wrote)))
		if _, werr := pp.dst.Write((*buf)[:n]); werr != nil {
			pp.conn.close(false)
			return false, false
		}
		pp.wrote = time.Now()
		return false, true
	}
	if !pp.enqueueLocked(chunk{buf: buf, n: n, release: release}, stop) {
		return false, false
	}
	return true, true
}

// enqueueLocked queues ch, waiting for room, and unlocks pp.mu; on an
// idle pipe it gives the pipe to the clock. It returns false, with ch not
// queued, when the pair is closed (or stop is closed) first.
func (pp *pipe) enqueueLocked(ch chunk, stop <-chan struct{}) bool {
	for pp.n == queueLen && !pp.conn.isClosed() && !isClosed(stop) {
		pp.mu.Unlock()
		select {
		case <-pp.space:
		case <-pp.conn.done:
		case <-stop:
		}
		pp.mu.Lock()
	}
	if pp.conn.isClosed() || isClosed(stop) {
		pp.mu.Unlock()
		return false
	}
	pp.q[(pp.head+pp.n)%queueLen] = ch
	pp.n++
	schedule := pp.owner == ownIdle
	if schedule {
		pp.owner = ownClock
	}
	pp.mu.Unlock()
	if schedule {
		pp.conn.proxy.clock.flushAt(ch.release, pp)
	}
	return true
}

// popLocked removes the first queued chunk, giving its buffer back.
func (pp *pipe) popLocked() {
	buffers.Put(pp.q[pp.head].buf)
	pp.q[pp.head] = chunk{}
	pp.head = (pp.head + 1) % queueLen
	pp.n--
	if pp.n == queueLen-1 {
		signal(pp.space)
	}
}

// dropLocked drops every queued chunk (the pair is closed).
func (pp *pipe) dropLocked() {
	for pp.n > 0 {
		pp.popLocked()
	}
	signal(pp.space)
}

// releaseTime is when n bytes read at now may be delivered: after the
// previous chunk has gone through the bandwidth limit and this one too,
// plus half the round trip's latency ± half the jitter; never before the
// previous chunk's delivery, so bytes stay in order.
func (pp *pipe) releaseTime(n int, now time.Time) time.Time {
	cfg := &pp.conn.proxy.cfg
	start := now
	if pp.transmitted.After(start) {
		start = pp.transmitted
	}
	end := start
	if cfg.Bandwidth > 0 {
		end = start.Add(time.Duration(int64(n) * int64(time.Second) / cfg.Bandwidth))
	}
	pp.transmitted = end
	delay := (cfg.Latency + time.Duration(pp.conn.proxy.extra.Load())) / 2
	if cfg.Jitter > 0 {
		delay += time.Duration(pp.rng.Int64N(int64(cfg.Jitter)+1)) - cfg.Jitter/2
	}
	release := end.Add(max(delay, 0))
	if release.Before(pp.released) {
		release = pp.released
	}
	pp.released = release
	return release
}

// flush runs on the clock's thread when the first queued chunk is due:
// it writes every due chunk without blocking, and returns the next
// chunk's time when one is queued but not yet due (again: the clock calls
// flush again then). It hands the pipe to the writer goroutine when a
// write would block or fails, during a stall, and when the pipe ends.
func (pp *pipe) flush() (next time.Time, again bool) {
	pp.mu.Lock()
	if pp.owner != ownClock { // taken by the writer once the pair closed
		pp.mu.Unlock()
		return time.Time{}, false
	}
	pp.clockBusy = true
	now := time.Now()
	for {
		if pp.conn.isClosed() {
			pp.dropLocked()
			pp.owner = ownWriter
			break
		}
		if pp.n == 0 {
			pp.owner = ownIdle
			if pp.readDone {
				pp.owner = ownWriter
			}
			break
		}
		ch := &pp.q[pp.head]
		if ch.release.After(now) {
			next, again = ch.release, true
			break
		}
		if (pp.raw == nil && pp.sink == nil) || pp.conn.proxy.stalled.Load() {
			pp.owner = ownWriter
			break
		}
		due := latest(ch.release, pp.wrote)
		pp.mu.Unlock()
		// Recorded before the write, so that whoever receives the chunk
		// finds its lateness recorded.
		pp.conn.lat.record(now.Sub(due))
		n, err := pp.tryWrite((*ch.buf)[:ch.n])
		pp.mu.Lock()
		ch.started, ch.off = true, n
		if err != nil {
			pp.mu.Unlock()
			pp.conn.close(false)
			pp.mu.Lock()
			continue // drops the rest and hands over
		}
		if n < ch.n { // the socket's buffer is full
			pp.owner = ownWriter
			break
		}
		now = time.Now()
		pp.wrote = now
		pp.popLocked()
	}
	pp.clockBusy = false
	handOver := pp.owner == ownWriter
	pp.mu.Unlock()
	if handOver {
		signal(pp.work)
	}
	return next, again
}

// tryWrite writes b to dst without blocking: all of it, or what fits in
// dst's socket buffer (n < len(b), err nil), or an error.
func (pp *pipe) tryWrite(b []byte) (n int, err error) {
	if pp.sink != nil {
		return pp.sink.offer(b), nil
	}
	pp.tryBuf, pp.tryN, pp.tryErr = b, 0, nil
	if err := pp.raw.Write(pp.try); err != nil {
		pp.tryBuf = nil
		return 0, err
	}
	n, err = pp.tryN, pp.tryErr
	pp.tryBuf, pp.tryErr = nil, nil
	return n, err
}

// write is the pipe's writer goroutine: it delivers the queued chunks
// whenever it owns the pipe, and once the reader has ended and the queue
// is flushed, closes the pair. Once the pair is closed it takes the pipe
// from the clock, drops the queue, and ends when the reader has.
func (pp *pipe) write() {
	done := pp.conn.done
	for !pp.writerTurn() {
		if pp.conn.isClosed() {
			<-pp.work
			continue
		}
		select {
		case <-pp.work:
		case <-done:
		}
	}
	pp.conn.close(false)
	pp.conn.writerDone()
}

// writerTurn delivers the queued chunks while the writer owns the pipe;
// it returns true when the writer may end: the reader has ended, and the
// queue is flushed or dropped.
func (pp *pipe) writerTurn() (end bool) {
	for {
		pp.mu.Lock()
		if pp.conn.isClosed() {
			if pp.owner == ownClock && !pp.clockBusy {
				pp.owner = ownWriter // its deadline will find it gone
			}
			if pp.owner == ownWriter {
				pp.dropLocked()
			}
			end = pp.readDone && pp.owner != ownClock
			pp.mu.Unlock()
			return end
		}
		if pp.owner != ownWriter {
			end = pp.owner == ownIdle && pp.readDone
			pp.mu.Unlock()
			return end
		}
		if pp.n == 0 {
			if pp.readDone {
				pp.mu.Unlock()
				return true
			}
			pp.owner = ownIdle
			pp.mu.Unlock()
			return false
		}
		ch := &pp.q[pp.head]
		pp.mu.Unlock()
		ok := pp.deliver(ch)
		pp.mu.Lock()
		if ok {
			pp.popLocked()
		}
		pp.mu.Unlock()
	}
}

// deliver waits for ch's delivery time and the end of any stall, then
// records how late it is (lateness.go) and writes it to dst; a chunk
// whose write the clock began it only finishes. It returns false when the
// pair is closed first or the write fails; it closes the pair then.
func (pp *pipe) deliver(ch *chunk) bool {
	done := pp.conn.done
	if !ch.started {
		if time.Now().Before(ch.release) {
			pp.conn.proxy.clock.wakeAt(ch.release, pp.wake)
			select {
			case <-pp.wake:
			case <-done:
				return false
			}
		}
		ok, resumedAt := pp.conn.proxy.waitResumed(done)
		if !ok {
			return false
		}
		due := latest(latest(ch.release, resumedAt), pp.wrote)
		// Recorded before the write, so that whoever receives the chunk
		// finds its lateness recorded.
		pp.conn.lat.record(time.Since(due))
	}
	if _, err := pp.dst.Write((*ch.buf)[ch.off:ch.n]); err != nil {
		pp.conn.close(false)
		return false
	}
	pp.wrote = time.Now()
	return true
}

// isClosed reports whether ch is closed; a nil ch never is.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
