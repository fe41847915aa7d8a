// Package tune searches for the smallest pool configuration at which a
// scenario passes, by experiment: it decides which configurations to try
// and what their outcomes prove, and leaves running them to a callback
// (`planrun tune` runs the engine and judges the assertions; the tests use
// a table). It assumes that more connections never make a scenario fail
// that passed with fewer (monotone in size, and in max_overflow at a fixed
// size).
//
// A try that was inconclusive (the load generator could not keep to its
// schedule, so its figures describe the machine, not the pool) is repeated
// once; if it is still inconclusive it proves nothing, and a bisection
// stops there with the bracket it had.
package tune

import (
	"errors"
	"fmt"
)

// Outcome is what one try at a configuration showed.
type Outcome int

// Outcomes of a try.
const (
	// Unknown: not tried, or tried without a conclusive outcome.
	Unknown Outcome = iota
	// Pass: the scenario's critical assertions held (verdict approved).
	Pass
	// Fail: a critical assertion failed.
	Fail
	// Inconclusive: the run's verdict was inconclusive; not evidence.
	Inconclusive
)

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Inconclusive:
		return "inconclusive"
	}
	return "unknown"
}

// Config is a pool configuration: pool.size and pool.max_overflow.
type Config struct {
	Size        int
	MaxOverflow int
}

func (c Config) String() string {
	return fmt.Sprintf("size %d, max_overflow %d", c.Size, c.MaxOverflow)
}

// Range is an inclusive range of integers, From ≤ To.
type Range struct{ From, To int }

// Contains reports whether v is in r.
func (r Range) Contains(v int) bool { return v >= r.From && v <= r.To }

func (r Range) String() string { return fmt.Sprintf("%d..%d", r.From, r.To) }

// ConfirmWithin is how many connections (size + max_overflow) the smallest
// passing configuration may lie from the model's recommendation for the
// runs to confirm it: the bisection's own resolution, since a size at the
// edge of the target passes or fails by the run's noise.
const ConfirmWithin = 1

// Confirms reports whether runs that found smallest to be the smallest
// passing configuration confirm the model's recommendation: their
// connections differ by at most ConfirmWithin.
func Confirms(model, smallest Config) bool {
	d := (smallest.Size + smallest.MaxOverflow) - (model.Size + model.MaxOverflow)
	return d >= -ConfirmWithin && d <= ConfirmWithin
}

// Why a configuration was tried.
const (
	WhyPlan     = "plan"     // the configuration the plan states
	WhyModel    = "model"    // the queue model's recommendation
	WhySize     = "size"     // a step of the bisection over size
	WhyOverflow = "overflow" // a step of the bisection over max_overflow
)

// TryFunc runs the scenario once at c (why says which step asked, repeat
// whether it is the repeat of an inconclusive try) and returns its outcome.
// An error (the run could not be made, or was interrupted) stops the search.
type TryFunc func(c Config, why string, repeat bool) (Outcome, error)

// Stop reasons of a search.
const (
	// StopFound: the smallest passing configuration in the range was found.
	StopFound = "found"
	// StopNone: no configuration in the range passes.
	StopNone = "none_passes"
	// StopInconclusive: a bisection step stayed inconclusive after its
	// repeat; the bracket is what was proved before it.
	StopInconclusive = "inconclusive"
	// StopError: a try could not be run or was interrupted (the error says which).
	StopError = "error"
)

// Bracket is what a bisection proved: Fail is the largest value known to
// fail below Pass (From−1 when none), Pass the smallest value known to pass
// (To+1 when none in the range did).
type Bracket struct{ Fail, Pass int }

// Result is the outcome of a search.
type Result struct {
	// Smallest is the smallest configuration seen to pass (after the
	// overflow bisection, when one ran); Found is false when none passed.
	Smallest Config
	Found    bool
	// Size is the bracket of the size bisection; Overflow that of the
	// overflow bisection (zero when none ran).
	Size, Overflow Bracket
	// Stop says why the search ended (Stop* constants).
	Stop string
	// Conclusive counts the tries with a conclusive outcome (pass or fail).
	Conclusive int
}

// Search tries plan (the plan's configuration), then the model's candidate
// (model is called after plan's try, which may have made it; nil, a nil
// or equal candidate, or one whose size is outside sizes, skips it), then
// bisects size over sizes
// with max_overflow fixed at plan's, and then, when overflows is not nil
// and a size passed, max_overflow over *overflows at that size. Outcomes
// already known (plan's, model's) narrow the bisections; a bisection
// without a model candidate starts at its range's midpoint.
func Search(plan Config, model func() *Config, sizes Range, overflows *Range, try TryFunc) (Result, error) {
	s := &searcher{try: try, known: map[Config]Outcome{}}
	res := Result{Stop: StopFound}
	fail := func(err error) (Result, error) {
		res.Stop, res.Conclusive = StopError, s.conclusive
		res.Smallest, res.Found = s.smallestPass()
		return res, err
	}
	if _, err := s.outcome(plan, WhyPlan); err != nil {
		return fail(err)
	}
	if model != nil {
		// A candidate outside the sizes asked for is not tried: --size
		// bounds the search, and a pass beyond it would contradict "none
		// in the range passes".
		if m := model(); m != nil && *m != plan && sizes.Contains(m.Size) {
			if _, err := s.outcome(*m, WhyModel); err != nil {
				return fail(err)
			}
		}
	}
	size := func(v int) Config { return Config{Size: v, MaxOverflow: plan.MaxOverflow} }
	br, stop, err := s.bisect(sizes, size, WhySize)
	res.Size = br
	if err != nil {
		return fail(err)
	}
	res.Stop = stop
	if stop == StopFound && overflows != nil {
		found := br.Pass
		over := func(v int) Config { return Config{Size: found, MaxOverflow: v} }
		obr, ostop, err := s.bisect(*overflows, over, WhyOverflow)
		res.Overflow = obr
		if err != nil {
			return fail(err)
		}
		// The size found stands when no overflow in the range passes.
		if ostop != StopNone {
			res.Stop = ostop
		}
	}
	res.Smallest, res.Found = s.smallestPass()
	res.Conclusive = s.conclusive
	return res, nil
}

// searcher remembers every conclusive outcome.
type searcher struct {
	try        TryFunc
	known      map[Config]Outcome
	order      []Config // passing configurations, in the order found
	conclusive int
}

// outcome tries c (and once more if inconclusive), remembering a
// conclusive outcome; a configuration already known is not tried again.
func (s *searcher) outcome(c Config, why string) (Outcome, error) {
	if o, ok := s.known[c]; ok {
		return o, nil
	}
	o, err := s.try(c, why, false)
	if err == nil && o == Inconclusive {
		o, err = s.try(c, why, true)
	}
	if err != nil {
		return Unknown, err
	}
	switch o {
	case Pass, Fail:
		s.known[c] = o
		s.conclusive++
		if o == Pass {
			s.order = append(s.order, c)
		}
	case Inconclusive:
	default:
		return Unknown, errors.New("tune: a try returned no outcome")
	}
	return o, nil
}

// smallestPass is the passing configuration with the fewest connections
// (size + max_overflow), then the smallest size.
func (s *searcher) smallestPass() (Config, bool) {
	var best Config
	found := false
	for _, c := range s.order {
		if !found || c.Size+c.MaxOverflow < best.Size+best.MaxOverflow ||
			(c.Size+c.MaxOverflow == best.Size+best.MaxOverflow && c.Size < best.Size) {
			best, found = c, true
		}
	}
	return best, found
}

// bisect finds the smallest v in r at which at(v) passes, starting from
// what is already known of the values in r.
func (s *searcher) bisect(r Range, at func(int) Config, why string) (Bracket, string, error) {
	b := Bracket{Fail: r.From - 1, Pass: r.To + 1}
	// The smallest known pass, then the largest known failure below it
	// (a failure above a pass, noise against monotonicity, is not used).
	for v := r.From; v <= r.To; v++ {
		if s.known[at(v)] == Pass {
			b.Pass = v
			break
		}
	}
	for v := b.Pass - 1; v >= r.From; v-- {
		if s.known[at(v)] == Fail {
			b.Fail = v
			break
		}
	}
	for b.Pass-b.Fail > 1 {
		mid := b.Fail + (b.Pass-b.Fail)/2
		o, err := s.outcome(at(mid), why)
		if err != nil {
			return b, StopError, err
		}
		switch o {
		case Pass:
			b.Pass = mid
		case Fail:
			b.Fail = mid
		default:
			return b, StopInconclusive, nil
		}
	}
	if b.Pass > r.To {
		return b, StopNone, nil
	}
	return b, StopFound, nil
}
