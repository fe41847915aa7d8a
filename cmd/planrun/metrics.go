package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/metrics"
)

// metricsFlags are run's live metrics flags (docs/metrics.md, "Live metrics").
type metricsFlags struct {
	addr   string
	linger time.Duration
}

func (m *metricsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.addr, "metrics-addr", "", "serve live Prometheus metrics at http://HOST:PORT/metrics while the plan runs (a port alone, :9464, binds to 127.0.0.1); default off")
	fs.DurationVar(&m.linger, "metrics-linger", 0, "keep the metrics endpoint up this long after the report is written, for a final scrape (needs --metrics-addr)")
}

// check validates the flags before anything runs: a problem is a usage error (exit 2).
func (m *metricsFlags) check() error {
	if m.linger < 0 {
		return fmt.Errorf("--metrics-linger must not be negative, got %s", m.linger)
	}
	if m.addr == "" {
		if m.linger > 0 {
			return fmt.Errorf("--metrics-linger needs --metrics-addr")
		}
		return nil
	}
	if _, err := metrics.ResolveAddr(m.addr); err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	return nil
}

// liveMetrics is a run's metrics endpoint; the zero value (metrics off) does nothing.
type liveMetrics struct {
	coll   *metrics.Collector
	srv    *metrics.Server
	linger time.Duration
}

// start binds the endpoint and says where it is on stderr. A binding error
// (the port is taken) is returned before any load runs.
func (m *metricsFlags) start(stderr io.Writer) (*liveMetrics, error) {
	if m.addr == "" {
		return &liveMetrics{}, nil
	}
	coll := metrics.NewCollector()
	srv, err := metrics.Listen(m.addr, coll)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "planrun: metrics on %s\n", srv.URL())
	return &liveMetrics{coll: coll, srv: srv, linger: m.linger}, nil
}

// sinks are the run's live sinks so far: the collector, none when metrics
// are off.
func (l *liveMetrics) sinks() []live.Sink {
	if l.coll == nil {
		return nil
	}
	return []live.Sink{l.coll}
}

// wait keeps the endpoint up for --metrics-linger after the report, or
// until stop ends.
func (l *liveMetrics) wait(stop context.Context, stderr io.Writer) {
	if l.srv == nil || l.linger <= 0 || stop.Err() != nil {
		return
	}
	fmt.Fprintf(stderr, "planrun: metrics stay up on %s for %s (--metrics-linger); a stop signal ends the wait\n", l.srv.URL(), humanize.Duration(l.linger))
	t := time.NewTimer(l.linger)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop.Done():
	}
}

// close stops the endpoint.
func (l *liveMetrics) close(stderr io.Writer) {
	if l.srv == nil {
		return
	}
	if err := l.srv.Close(); err != nil {
		fmt.Fprintf(stderr, "planrun: warning: stopping the metrics endpoint: %v\n", err)
	}
}
