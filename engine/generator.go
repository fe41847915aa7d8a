package engine

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/internal/selfwatch"
	"github.com/planrun/planrun/results"
)

// generatorFigures converts what the scenario's selfwatch.Watch measured
// into results: the timer lateness (recorded in microseconds) as a
// results.Latency in durations like every other latency, without its
// encoded histogram (nothing re-reads it), and the CPU figures in cores.
// The watch covers the whole scenario, warm-up and drain included.
func generatorFigures(f selfwatch.Figures) results.Generator {
	return results.Generator{
		TimerLateness: hdr.FiguresIn(f.Lateness, time.Microsecond),
		CPU:           f.CPU,
		ServerCPU:     f.ServerCPU,
		ServiceCPU:    f.ServiceCPU,
		MachineCPU:    f.MachineCPU,
		Cores:         f.Cores,
	}
}

// watchGenerator starts watching the load generator for the scenario:
// its selfwatch.Watch, which accounts for the process trees planrun
// started on this machine (the embedded server's, and the service's when
// planrun started it: a running service given by url has no PID here), and
// a new period of the emulated network's delivery lateness (what the proxy
// delivered before the scenario, for setup or an earlier scenario, is not
// the scenario's).
func (r *scenarioRun) watchGenerator() {
	trees := selfwatch.Trees{Server: r.env.serverPID}
	if r.env.svc != nil {
		trees.Service = r.env.svc.PID()
	}
	r.self = selfwatch.Start(trees)
	r.proxyLateness(true)
}

// proxyLateness is the delivery lateness of the run's proxies (the pool's
// and the service's, merged), since the last take; take starts a new
// period. Nil without a proxy.
func (r *scenarioRun) proxyLateness(take bool) *hdrhistogram.Histogram {
	var out *hdrhistogram.Histogram
	for _, p := range r.env.proxies() {
		h := p.Lateness()
		if take {
			h = p.TakeLateness()
		}
		if out == nil {
			out = h
		} else {
			out.Merge(h)
		}
	}
	return out
}

// generator is the scenario's generator figures so far (generatorFigures),
// with the emulated network's delivery lateness (netproxy: microseconds
// per chunk and direction; zero without a network). final stops the watch
// and takes the lateness, once, at the scenario's end.
func (r *scenarioRun) generator(final bool) results.Generator {
	var g results.Generator
	if final {
		g = generatorFigures(r.self.Stop())
	} else {
		g = generatorFigures(r.self.Now())
	}
	if h := r.proxyLateness(final); h != nil {
		g.ProxyLateness = hdr.FiguresIn(h, time.Microsecond)
	}
	return g
}
