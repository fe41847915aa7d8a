package netproxy

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
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
}

// pipe is one direction of a connection: read from src, deliver to dst.
type pipe struct {
	conn     *conn
	src, dst net.Conn
	queue    chan chunk
	// queued counts chunks queued and not yet delivered (or dropped);
	// while it is 0 the writer is idle and read may write itself.
	queued atomic.Int64
	wake   chan struct{} // the clock wakes write on it; buffered 1
	rng    *rand.Rand    // owned by read
	// transmitted is when the previous chunk finished going through the
	// bandwidth limit; released is its delivery time. Owned by read.
	transmitted, released time.Time
	// wrote is when the writer's previous write ended. Owned by write.
	wrote time.Time
}

func newPipe(c *conn, src, dst net.Conn, rng *rand.Rand) *pipe {
	return &pipe{conn: c, src: src, dst: dst, queue: make(chan chunk, queueLen), wake: make(chan struct{}, 1), rng: rng}
}

// read queues what src sends until src ends or the pair is closed, then
// closes the queue. A chunk that is due at once, with nothing queued
// before it and no stall, it writes itself: that saves the hand-over to
// the writer, which is most of the proxy's cost without latency.
func (pp *pipe) read() {
	defer close(pp.queue)
	proxy := pp.conn.proxy
	buf := buffers.Get().(*[]byte)
	defer func() { buffers.Put(buf) }()
	for {
		n, err := pp.src.Read(*buf)
		if n > 0 {
			release := pp.releaseTime(n)
			if now := time.Now(); pp.queued.Load() == 0 && !proxy.stalled.Load() && !release.After(now) {
				pp.conn.lat.record(now.Sub(release))
				if _, werr := pp.dst.Write((*buf)[:n]); werr != nil {
					pp.conn.close(false)
					return
				}
			} else {
				pp.queued.Add(1)
				pp.queue <- chunk{buf: buf, n: n, release: release}
				buf = buffers.Get().(*[]byte)
			}
		}
		if err != nil {
			return
		}
	}
}

// releaseTime is when n bytes read now may be delivered: after the
// previous chunk has gone through the bandwidth limit and this one too,
// plus half the round trip's latency ± half the jitter; never before the
// previous chunk's delivery, so bytes stay in order.
func (pp *pipe) releaseTime(n int) time.Time {
	cfg := &pp.conn.proxy.cfg
	now := time.Now()
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

// write delivers every queued chunk at its time, and once the reader has
// ended and the queue is flushed, closes the pair. After a failed write
// or a closed pair it only drains the queue, so the reader never blocks.
func (pp *pipe) write() {
	ok := true
	for ch := range pp.queue {
		if ok {
			ok = pp.deliver(ch)
		}
		buffers.Put(ch.buf)
		pp.queued.Add(-1)
	}
	pp.conn.close(false)
	pp.conn.writerDone()
}

// deliver waits for ch's delivery time and the end of any stall, then
// records how late it is (lateness.go) and writes it to dst. It
// returns false when the pair is closed first or the write fails; it
// closes the pair then.
func (pp *pipe) deliver(ch chunk) bool {
	done := pp.conn.done
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
	due := ch.release
	if resumedAt.After(due) {
		due = resumedAt
	}
	if pp.wrote.After(due) {
		due = pp.wrote
	}
	// Recorded before the write, so that whoever receives the chunk finds
	// its lateness recorded.
	pp.conn.lat.record(time.Since(due))
	if _, err := pp.dst.Write((*ch.buf)[:ch.n]); err != nil {
		pp.conn.close(false)
		return false
	}
	pp.wrote = time.Now()
	return true
}
