package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Readiness polling: one GET at a time, pollInterval apart, each bounded by
// attemptTimeout (a service that accepts and hangs keeps being polled).
const (
	pollInterval   = 100 * time.Millisecond
	attemptTimeout = 2 * time.Second
)

// readyClient polls without keeping connections (none is left open to the
// service once it is ready) and directly, whatever HTTP_PROXY says.
var readyClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}

// waitReady polls GET p.url+s.Ready until it answers 2xx, within
// s.ReadyTimeout. It returns at once when the started process exits or ctx
// is cancelled.
func (p *Process) waitReady(ctx context.Context, s Spec) error {
	target := p.url + s.Ready
	what := fmt.Sprintf("GET %s", s.Ready)
	if p.exited == nil {
		what = fmt.Sprintf("GET %s%s", p.url, s.Ready)
	}
	// attempts end when the process exits, as well as with ctx.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p.exited != nil {
		go func() {
			select {
			case <-p.exited:
				cancel()
			case <-actx.Done():
			}
		}()
	}

	start := time.Now()
	deadline := time.NewTimer(s.ReadyTimeout)
	defer deadline.Stop()
	last, answered := "no answer yet", false
	for {
		code, err := p.attempt(actx, target, min(attemptTimeout, s.ReadyTimeout-time.Since(start)))
		// A cancel first: it also stops the process, whose exit follows.
		if ctx.Err() != nil {
			return redactErr(p.red, fmt.Errorf("service: stopped waiting for %s to answer 2xx (bound %s): %w", what, s.ReadyTimeout, context.Cause(ctx)))
		}
		select {
		case <-p.exited:
			return redactErr(p.red, fmt.Errorf("service: the service exited (%s) %s after it started, before %s answered 2xx (bound %s)",
				exitStatus(p.waitErr), time.Since(start).Round(time.Millisecond), what, s.ReadyTimeout))
		default:
		}
		switch {
		case err != nil:
			last, answered = err.Error(), false
		case code >= 200 && code <= 299:
			return nil
		default:
			last, answered = fmt.Sprintf("%d %s", code, http.StatusText(code)), true
		}
		select {
		case <-deadline.C:
			return redactErr(p.red, fmt.Errorf("service: %s did not answer 2xx within %s (last answer: %s): %s",
				what, s.ReadyTimeout, last, p.readyHint(answered)))
		case <-p.exited:
			// reported at the top of the loop
		case <-ctx.Done():
		case <-time.After(pollInterval):
		}
	}
}

// attempt sends one GET and returns its status, or why there is none.
func (p *Process) attempt(ctx context.Context, target string, timeout time.Duration) (int, error) {
	if timeout <= 0 {
		timeout = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("no answer within %s", timeout.Round(time.Millisecond))
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// readyHint says what to check when the ready path never answered 2xx:
// the path when the service answered, where it listens when it did not.
func (p *Process) readyHint(answered bool) string {
	switch {
	case answered:
		return "is target.service.ready the path the service answers 2xx on once it can serve?"
	case p.exited == nil:
		return "is the service at target.service.url up, and reachable from here?"
	}
	return fmt.Sprintf("does the service listen on 127.0.0.1 at the port planrun hands it as %s? (a slow start: see its log)", PortPlaceholder)
}
