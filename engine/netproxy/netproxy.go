// Package netproxy is an in-process TCP proxy that simulates the network
// between a pool and its server: latency, jitter and bandwidth on every
// connection, and faults switched on while it runs (a stall, a latency
// spike, a reset of every connection).
//
// Each accepted connection gets its own upstream connection and two
// directions; so does a connection a client in the same process opens with
// [Proxy.DialContext], which has no socket on the client's side
// (localconn.go). In each direction a reader stamps every chunk it reads with
// the time it may be delivered, and the proxy's clock delivers the chunks
// at those times, in order, from its own thread; a writer goroutine takes
// over a direction whose receiver does not keep up, and during a stall
// (pipe.go). With a zero Config the proxy forwards as fast as the two
// sockets allow.
//
// The proxy measures how late it delivers each chunk (Lateness,
// TakeLateness; defined in lateness.go): on a busy machine its delays
// grow by what its goroutines wait for a CPU, and that figure says by how
// much.
package netproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDialTimeout is the DialTimeout used when Config leaves it zero.
const DefaultDialTimeout = 5 * time.Second

// Config configures a Proxy.
type Config struct {
	// Network and Address name the upstream server as net.Dial takes them
	// ("tcp", "127.0.0.1:5432" or "unix", "/tmp/.s.PGSQL.5432"). Required.
	Network, Address string
	// Latency is added to every round trip: half to each direction. Default 0.
	Latency time.Duration
	// Jitter spreads each direction's delay uniformly by ± Jitter/2 (a
	// round trip by at most ± Jitter); bytes on one connection are never
	// reordered. Must be <= Latency. Default 0.
	Jitter time.Duration
	// Bandwidth limits each connection per direction, in bytes per second.
	// Default 0 = unlimited.
	Bandwidth int64
	// Seed seeds the jitter. Default 0.
	Seed int64
	// DialTimeout bounds dialling the upstream for each accepted
	// connection. Default 5s.
	DialTimeout time.Duration
	// Unix makes the proxy listen on a Unix socket (in a directory of its
	// own under os.TempDir, removed by Close) instead of a 127.0.0.1 port:
	// the kernel moves bytes between two local processes' Unix sockets for
	// much less CPU than through TCP's loopback, and the proxy's clients
	// are in planrun's own process, whose CPU the load competes with.
	// [Proxy.Reset] then closes the client side (a Unix socket has no RST:
	// the client reads EOF instead of ECONNRESET). Default false.
	Unix bool
}

// check reports what is wrong with c, every problem at once.
func (c Config) check() error {
	var errs []error
	if c.Network == "" || c.Address == "" {
		errs = append(errs, errors.New("upstream Network and Address are required"))
	}
	if c.Latency < 0 {
		errs = append(errs, fmt.Errorf("latency %v is negative", c.Latency))
	}
	if c.Jitter < 0 || c.Jitter > c.Latency {
		errs = append(errs, fmt.Errorf("jitter %v must be between 0 and the latency %v", c.Jitter, c.Latency))
	}
	if c.Bandwidth < 0 {
		errs = append(errs, fmt.Errorf("bandwidth %d B/s is negative", c.Bandwidth))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("dial timeout %v is negative", c.DialTimeout))
	}
	return errors.Join(errs...)
}

// Proxy forwards connections accepted on a 127.0.0.1 port (or, with
// [Config.Unix], a Unix socket) to the upstream.
// Its methods are safe for concurrent use.
type Proxy struct {
	cfg      Config
	listener net.Listener
	dir      string // the Unix socket's directory ("" on TCP), removed by Close
	// dialCtx is cancelled by Close so that no dial outlives the proxy.
	dialCtx    context.Context
	cancelDial context.CancelFunc
	wg         sync.WaitGroup // every goroutine the proxy started
	clock      *clock
	extra      atomic.Int64  // SetExtraLatency's round-trip duration, in ns
	stalled    atomic.Bool   // fast path of resumed != nil
	seq        atomic.Uint64 // numbers connections, to seed their jitter
	lat        *latenesses   // the delivery lateness of every connection

	mu      sync.Mutex
	conns   map[*conn]struct{} // open connections
	levels  connLevels         // their count over time (ConnStats)
	resumed chan struct{}      // while stalled: closed when the stall ends
	// resumedAt is when the last stall ended: a chunk that waited for it
	// was due then at the earliest.
	resumedAt time.Time
	closed    bool

	closeOnce sync.Once
	closeErr  error
}

// Start listens on 127.0.0.1 (a free port) and forwards every accepted
// connection to cfg's upstream until Close.
func Start(cfg Config) (*Proxy, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("netproxy: %w", err)
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	ln, dir, err := listen(cfg.Unix)
	if err != nil {
		return nil, fmt.Errorf("netproxy: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		cfg:        cfg,
		listener:   ln,
		dir:        dir,
		dialCtx:    ctx,
		cancelDial: cancel,
		conns:      make(map[*conn]struct{}),
		clock:      newClock(),
		lat:        newLatenesses(),
		levels:     newConnLevels(time.Now()),
	}
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.clock.run() }()
	go p.accept()
	return p, nil
}

// Addr is the proxy's listening address: "127.0.0.1:PORT", or with
// [Config.Unix] the socket's path.
func (p *Proxy) Addr() string { return p.listener.Addr().String() }

// Network is the network of [Proxy.Addr] as net.Dial takes it: "tcp" or
// "unix".
func (p *Proxy) Network() string { return p.listener.Addr().Network() }

// listen listens on a free 127.0.0.1 port, or with unix on a Unix socket
// in a new directory, which it returns.
func listen(unix bool) (ln net.Listener, dir string, err error) {
	if !unix {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", fmt.Errorf("listen on 127.0.0.1: %w", err)
		}
		return ln, "", nil
	}
	dir, err = os.MkdirTemp("", "planrun-netproxy-")
	if err != nil {
		return nil, "", fmt.Errorf("listen on a Unix socket: %w", err)
	}
	ln, err = net.Listen("unix", filepath.Join(dir, "proxy.sock"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("listen on a Unix socket: %w", err)
	}
	return ln, dir, nil
}

// SetStalled stops (true) or resumes (false) forwarding on every
// connection, in both directions, including connections accepted while
// stalled. Bytes read while stalled are delivered, in order, once resumed.
func (p *Proxy) SetStalled(stalled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case stalled && p.resumed == nil:
		p.resumed = make(chan struct{})
		p.stalled.Store(true)
	case !stalled && p.resumed != nil:
		p.resumedAt = time.Now()
		close(p.resumed)
		p.resumed = nil
		p.stalled.Store(false)
	}
}

// SetExtraLatency adds d to every round trip of bytes read from now on
// (a latency spike); 0 ends the spike.
func (p *Proxy) SetExtraLatency(d time.Duration) { p.extra.Store(int64(max(d, 0))) }

// Reset resets every open connection at once: the client side gets a TCP
// RST (SO_LINGER 0; on a Unix socket, it is closed), the upstream side is
// closed. It returns how many
// connections it reset.
func (p *Proxy) Reset() int {
	open := p.openConns()
	for _, c := range open {
		c.close(true)
	}
	return len(open)
}

// Conns is the number of connections open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines to end. Calling it again returns the first call's
// result.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		if err := p.listener.Close(); err != nil {
			p.closeErr = fmt.Errorf("netproxy: close listener: %w", err)
		}
		if p.dir != "" {
			if err := os.RemoveAll(p.dir); err != nil && p.closeErr == nil {
				p.closeErr = fmt.Errorf("netproxy: remove the socket's directory: %w", err)
			}
		}
		p.cancelDial()
		for _, c := range p.openConns() {
			c.close(false)
		}
		close(p.clock.stop)
		p.wg.Wait()
	})
	return p.closeErr
}

// openConns is a snapshot of the open connections.
func (p *Proxy) openConns() []*conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	open := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		open = append(open, c)
	}
	return open
}

// accept accepts connections until the listener is closed.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		nc, err := p.listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: wait a moment, as
			// net/http does, rather than spin or give up.
			select {
			case <-p.dialCtx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		c := &conn{proxy: p, client: nc, done: make(chan struct{})}
		if !p.register(c) {
			nc.Close()
			return
		}
		go c.serve(p.seq.Add(1))
	}
}

// register counts c among the open connections and takes a place in the
// proxy's wait group for the goroutine that serves it; false, with
// nothing done, once the proxy is closed.
func (p *Proxy) register(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	p.levels.opens(time.Now())
	p.wg.Add(1)
	return true
}

// waitResumed returns true at once when the proxy is not stalled, or once
// the stall ends, with the instant it ended (zero when there was no stall
// to wait for); false if done is closed first.
func (p *Proxy) waitResumed(done <-chan struct{}) (ok bool, resumedAt time.Time) {
	if !p.stalled.Load() {
		return true, time.Time{}
	}
	p.mu.Lock()
	resumed := p.resumed
	p.mu.Unlock()
	if resumed == nil {
		return true, time.Time{}
	}
	select {
	case <-resumed:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.resumedAt
	case <-done:
		return false, time.Time{}
	}
}
