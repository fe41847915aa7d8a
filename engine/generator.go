package engine

import (
	"time"

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
		MachineCPU:    f.MachineCPU,
		Cores:         f.Cores,
	}
}

// watchGenerator starts watching the load generator for the scenario:
// its selfwatch.Watch, and a new period of the emulated network's
// delivery lateness (what the proxy delivered before the scenario, for
// setup or an earlier scenario, is not the scenario's).
func (r *scenarioRun) watchGenerator() {
	r.self = selfwatch.Start(r.env.serverPID)
	if p := r.env.proxy; p != nil {
		p.TakeLateness()
	}
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
	if p := r.env.proxy; p != nil {
		if final {
			g.ProxyLateness = hdr.FiguresIn(p.TakeLateness(), time.Microsecond)
		} else {
			g.ProxyLateness = hdr.FiguresIn(p.Lateness(), time.Microsecond)
		}
	}
	return g
}
