package merge

import (
	"fmt"
	"math"

	"github.com/planrun/planrun/tally"
)

// adder sums the segments' counts and remembers the first sum that does
// not fit in an int64: such a merge is refused (exit 2), never wrapped
// around to a negative count.
type adder struct {
	// file is the segment whose figures are being added, for the message.
	file string
	err  error
}

// add returns a + b for field (a the sum so far, b the figure of file); on
// overflow it records the error and returns the saturated sum.
func (s *adder) add(field string, a, b int64) int64 {
	sum, ok := tally.AddChecked(a, b)
	if !ok && s.err == nil {
		s.err = fmt.Errorf("%s: %s's %d added to %d goes past %d: the segments' figures add up to more than any run counts",
			field, s.file, b, a, int64(math.MaxInt64))
	}
	return sum
}

// addInt is add for an int.
func (s *adder) addInt(field string, a, b int) int {
	return int(s.add(field, int64(a), int64(b)))
}

// addFloat returns a + b for field, recording an error when the sum is not
// a finite number.
func (s *adder) addFloat(field string, a, b float64) float64 {
	sum := a + b
	if (math.IsInf(sum, 0) || math.IsNaN(sum)) && s.err == nil {
		s.err = fmt.Errorf("%s: %s's %v added to %v gives %v: the segments' figures add up to no finite number", field, s.file, b, a, sum)
	}
	return sum
}
