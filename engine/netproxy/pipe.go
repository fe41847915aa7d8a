package netproxy

import (
	"math/rand/v2"
	"net"
	"sync"
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
	rng      *rand.Rand // owned by read
	// transmitted is when the previous chunk finished going through the
	// bandwidth limit; released is its delivery time. Owned by read.
	transmitted, released time.Time
}

func newPipe(c *conn, src, dst net.Conn, rng *rand.Rand) *pipe {
	return &pipe{conn: c, src: src, dst: dst, queue: make(chan chunk, queueLen), rng: rng}
}

// read queues what src sends until src ends or the pair is closed, then
// closes the queue.
func (pp *pipe) read() {
	defer close(pp.queue)
	for {
		buf := buffers.Get().(*[]byte)
		n, err := pp.src.Read(*buf)
		if n > 0 {
			pp.queue <- chunk{buf: buf, n: n, release: pp.releaseTime(n)}
		} else {
			buffers.Put(buf)
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
	var timer *time.Timer
	ok := true
	for ch := range pp.queue {
		if ok {
			ok = pp.deliver(ch, &timer)
		}
		buffers.Put(ch.buf)
	}
	pp.conn.close(false)
}

// deliver waits for ch's delivery time and the end of any stall, then
// writes it to dst. It returns false when the pair is closed first or
// the write fails; it closes the pair then.
func (pp *pipe) deliver(ch chunk, timer **time.Timer) bool {
	done := pp.conn.done
	if wait := time.Until(ch.release); wait > 0 {
		if *timer == nil {
			*timer = time.NewTimer(wait)
		} else {
			(*timer).Reset(wait)
		}
		select {
		case <-(*timer).C:
		case <-done:
			(*timer).Stop()
			return false
		}
	}
	if !pp.conn.proxy.waitResumed(done) {
		return false
	}
	if _, err := pp.dst.Write((*ch.buf)[:ch.n]); err != nil {
		pp.conn.close(false)
		return false
	}
	return true
}
