package engine

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
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
		TimerLateness: microsLatency(f.Lateness),
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
			g.ProxyLateness = microsLatency(p.TakeLateness())
		} else {
			g.ProxyLateness = microsLatency(p.Lateness())
		}
	}
	return g
}

// microsLatency summarises a histogram of microseconds.
func microsLatency(h *hdrhistogram.Histogram) results.Latency {
	if h == nil || h.TotalCount() == 0 {
		return results.Latency{}
	}
	us := func(v float64) time.Duration { return time.Duration(v * float64(time.Microsecond)) }
	return results.Latency{
		Count: h.TotalCount(),
		Min:   us(float64(h.Min())),
		Mean:  us(h.Mean()),
		P50:   us(float64(h.ValueAtQuantile(50))),
		P90:   us(float64(h.ValueAtQuantile(90))),
		P95:   us(float64(h.ValueAtQuantile(95))),
		P99:   us(float64(h.ValueAtQuantile(99))),
		Max:   us(float64(h.Max())),
	}
}
