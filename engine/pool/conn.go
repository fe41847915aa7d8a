package pool

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// Conn is a pooled connection. One Conn exists per physical connection and
// is handed out again after each [Pool.Release].
type Conn struct {
	raw     *pgx.Conn // set once
	pool    *Pool     // set once
	created time.Time // when the connection was established (monotonic)
	since   time.Time // when the checkout in progress began (CheckedOut); written by the acquirer
	out     bool      // checked out; under Pool.mu
}

// PgConn returns the underlying connection for Exec, Query and so on. It must
// not be used after [Pool.Release], nor closed by the caller.
func (c *Conn) PgConn() *pgx.Conn { return c.raw }

// startConnect opens a connection for w in a slot already counted in
// p.open, under p.mu; probe marks the one attempt a backing-off pool makes.
func (p *Pool) startConnect(w *waiter, probe bool) {
	w.state = waiterConnecting
	p.opening++
	p.bg.Add(1)
	go p.connect(w, probe)
}

// connect opens a connection and grants it to w, or releases it into the
// pool when w has given up. A failed connect does the backoff's
// bookkeeping (connectFailed), frees its slot and grants w the error. A
// successful one ends the backoff if it started after the backoff began
// (connectSucceeded).
func (p *Pool) connect(w *waiter, probe bool) {
	defer p.bg.Done()
	start := time.Now()
	raw, err := p.dial(context.Background(), p.connConfig)
	if err == nil {
		// SQLAlchemy's per-connection setup, within the connect's bound.
		ctx, cancel := context.WithTimeout(context.Background(), p.connConfig.ConnectTimeout)
		if err = initConn(ctx, raw); err != nil {
			_ = raw.Close(ctx)
			err = fmt.Errorf("initialise connection: %w", err)
		}
		cancel()
	}
	now := time.Now()
	if err == nil {
		p.histMu.Lock()
		_ = p.connectHist.RecordValue(int64(now.Sub(start))) // beyond 1h: dropped
		p.histMu.Unlock()
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.noteLevel()
	p.opening--
	if probe {
		p.probing = false
	}
	waiting := w.state == waiterConnecting
	if err != nil {
		p.connectFailures++
		cerr := p.connectFailed(err, start, now, probe)
		p.freeSlot()
		if waiting {
			p.grant(w, grant{err: cerr})
		}
		return
	}
	p.connectSucceeded(start, now)
	p.opened++
	p.maxOpen = max(p.maxOpen, p.open-p.opening)
	c := &Conn{raw: raw, pool: p, created: now}
	switch {
	case waiting && !p.closed:
		p.grant(w, grant{c: c, fresh: true})
	case waiting:
		p.grant(w, grant{err: ErrClosed})
		p.discard(c, reasonEnd)
	default: // w gave up
		p.put(c)
	}
}

// discard counts c closed for reason and closes it in the background, under
// p.mu. Its slot is freed once the server has closed its end.
func (p *Pool) discard(c *Conn, reason closeReason) {
	switch reason {
	case reasonRecycled:
		p.closedRecycled++
	case reasonOverflow:
		p.closedOverflow++
	case reasonEnd:
		p.closedEnd++
	default:
		p.closedBroken++
	}
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		terminate(c.raw)
		p.mu.Lock()
		p.freeSlot()
		p.noteLevel()
		p.mu.Unlock()
	}()
}

// terminateMsg is the protocol's Terminate message.
var terminateMsg = []byte{'X', 0, 0, 0, 4}

// terminate closes conn and waits, at most closeTimeout, until the server
// has closed its end: by then the backend has left pg_stat_activity. Errors
// are ignored, as libpq's PQfinish does.
func terminate(conn *pgx.Conn) {
	pg := conn.PgConn()
	if pg.IsClosed() {
		// pgx closed it itself, on an I/O error or a cancelled context: it
		// sends Terminate, reads until the server closes its end and then
		// closes CleanupDone (pgconn's asyncClose). A connection closed by
		// its user with Close is closed at once: nothing to wait for.
		t := time.NewTimer(closeTimeout)
		defer t.Stop()
		select {
		case <-pg.CleanupDone():
		case <-t.C:
		}
		return
	}
	nc := pg.Conn() // busy (released in the middle of a query): pgx is done with it
	if hc, err := pg.Hijack(); err == nil {
		nc = hc.Conn
	}
	_ = nc.SetDeadline(time.Now().Add(closeTimeout))
	if _, err := nc.Write(terminateMsg); err == nil {
		_, _ = io.Copy(io.Discard, nc) // until EOF: the server closed the connection
	}
	_ = nc.Close()
}

// popIdle takes a connection from the idle queue, under p.mu: the oldest,
// or with UseLIFO the most recently returned.
func (p *Pool) popIdle() *Conn {
	if p.lifo {
		return p.idle.popNewest()
	}
	return p.idle.pop()
}
