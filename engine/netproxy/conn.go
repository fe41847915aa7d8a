package netproxy

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one client connection and its upstream connection.
type conn struct {
	proxy *Proxy
	// client is a *net.TCPConn or, with Config.Unix, a *net.UnixConn; a
	// *localConn for a connection opened by Proxy.DialContext.
	client net.Conn
	// upstream is set, under proxy.mu, once dialled; nil before.
	upstream net.Conn
	// done is closed when the pair is closed; writers waiting on a
	// delivery time or a stall give up then.
	done      chan struct{}
	closeOnce sync.Once
	// lat records both directions' delivery lateness; writers counts the
	// directions' writers still running (the readers end before them), and
	// the last to end retires lat.
	lat     *lateness
	writers atomic.Int32
}

// serve dials the upstream and forwards both directions until the pair
// is closed. seq numbers the connection (from 1) to seed its jitter.
func (c *conn) serve(seq uint64) {
	p := c.proxy
	defer p.wg.Done()
	up, err := c.dialUpstream(p.dialCtx)
	if err != nil {
		return
	}
	toServer, toClient, ok := c.pipes(up, seq)
	if !ok {
		return
	}
	p.wg.Add(3)
	go func() { defer p.wg.Done(); toServer.read() }()
	go func() { defer p.wg.Done(); toServer.write() }()
	go func() { defer p.wg.Done(); toClient.read() }()
	toClient.write()
}

// dialUpstream dials c's upstream, bounded by ctx and the proxy's
// DialTimeout. When it fails it closes c: a client sees its connection
// closed at once, as it would a server that is down or restarting.
func (c *conn) dialUpstream(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: c.proxy.cfg.DialTimeout}
	up, err := d.DialContext(ctx, c.proxy.cfg.Network, c.proxy.cfg.Address)
	if err != nil {
		c.close(false)
		return nil, err
	}
	return up, nil
}

// pipes sets up c's two directions over its upstream up: toServer reads
// the client (a local connection's writes feed it instead) and writes up,
// toClient reads up and writes the client. It returns false, with up
// closed, when c was closed meanwhile.
func (c *conn) pipes(up net.Conn, seq uint64) (toServer, toClient *pipe, ok bool) {
	p := c.proxy
	p.mu.Lock()
	if c.isClosed() {
		p.mu.Unlock()
		up.Close()
		return nil, nil, false
	}
	c.upstream = up
	p.mu.Unlock()

	c.lat = p.lat.open()
	c.writers.Store(2)
	seed := uint64(p.cfg.Seed)
	var src net.Conn = c.client
	var dst io.Writer = c.client
	if lc, local := c.client.(*localConn); local {
		src, dst = nil, &localSink{lc: lc}
	}
	toServer = newPipe(c, src, up, rand.New(rand.NewPCG(seed, seq<<1)))
	toClient = newPipe(c, up, dst, rand.New(rand.NewPCG(seed, seq<<1|1)))
	return toServer, toClient, true
}

// writerDone is called by each direction's writer as it ends; the last
// retires the connection's lateness recorder, which nothing uses then.
func (c *conn) writerDone() {
	if c.writers.Add(-1) == 0 {
		c.proxy.lat.retire(c.lat)
	}
}

// isClosed reports whether close has begun.
func (c *conn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// close closes both sides, once; with reset, a TCP client side is sent a
// RST instead of a FIN.
func (c *conn) close(reset bool) {
	c.closeOnce.Do(func() {
		p := c.proxy
		if tc, ok := c.client.(*net.TCPConn); ok && reset {
			_ = tc.SetLinger(0)
		}
		if lc, ok := c.client.(*localConn); ok {
			lc.shut(io.EOF) // its reader reads what was delivered, then EOF
		} else {
			c.client.Close()
		}
		p.mu.Lock()
		close(c.done)
		up := c.upstream
		delete(p.conns, c)
		p.levels.closes(time.Now())
		p.mu.Unlock()
		if up != nil {
			up.Close()
		}
	})
}
