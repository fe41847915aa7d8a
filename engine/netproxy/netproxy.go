// Package netproxy is an in-process TCP proxy that simulates the network
// between a pool and its server: latency, jitter and bandwidth on every
// connection, and faults switched on while it runs (a stall, a latency
// spike, a reset of every connection).
//
// CONTRACT STUB: the helper implementing this package replaces the bodies.
package netproxy

import (
	"errors"
	"time"
)

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
}

// Proxy forwards connections accepted on a 127.0.0.1 port to the upstream.
// Its methods are safe for concurrent use.
type Proxy struct{}

// Start listens on 127.0.0.1 (a free port) and forwards every accepted
// connection to cfg's upstream until Close.
func Start(cfg Config) (*Proxy, error) { return nil, errors.New("netproxy: not implemented") }

// Addr is the proxy's listening address, "127.0.0.1:PORT".
func (p *Proxy) Addr() string { return "" }

// SetStalled stops (true) or resumes (false) forwarding on every
// connection, in both directions, including connections accepted while
// stalled. Bytes read while stalled are delivered, in order, once resumed.
func (p *Proxy) SetStalled(stalled bool) {}

// SetExtraLatency adds d to every round trip of bytes read from now on
// (a latency spike); 0 ends the spike.
func (p *Proxy) SetExtraLatency(d time.Duration) {}

// Reset resets every open connection at once: the client side gets a TCP
// RST (SO_LINGER 0), the upstream side is closed. It returns how many
// connections it reset.
func (p *Proxy) Reset() int { return 0 }

// Conns is the number of connections open through the proxy.
func (p *Proxy) Conns() int { return 0 }

// Close stops listening, closes every connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error { return nil }
