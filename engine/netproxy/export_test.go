package netproxy

// LockClock stops p's clock from waking any writer until unlock is
// called: a test's stand-in for a machine too busy to run the proxy.
func LockClock(p *Proxy) (unlock func()) {
	p.clock.mu.Lock()
	return p.clock.mu.Unlock
}
