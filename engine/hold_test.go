package engine_test

import (
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
)

// TestHoldRangeRuns: `hold: MIN..MAX` holds each connection for a duration
// drawn per operation, so the recorded holds spread over the range: none is
// shorter than MIN (a sleep never ends early), and with some 80 operations
// the median is near the middle and the longest near MAX. A fixed 20 ms hold
// would fail both; a busy machine only lengthens holds, which the lower
// bounds allow.
func TestHoldRangeRuns(t *testing.T) {
	prog := compile(t, `
version: 1
name: hold-range
pool: {size: 4, max_overflow: 0}
mixes:
  m:
    - {name: work, sql: SELECT 1, hold: 20ms..120ms}
scenarios:
  - {name: s, users: 4, duration: 1500ms}
`, engine.Options{})
	sc := run(t, prog, engine.RunOptions{}).Scenarios[0]
	t.Logf("ops %d, hold min %v p50 %v max %v", sc.Ops, sc.Hold.Min, sc.Hold.P50, sc.Hold.Max)
	if sc.Errors != 0 || sc.Hold.Count < 40 {
		t.Fatalf("errors %v, holds %d: want at least 40 clean operations (4 users × 1.5 s / 70 ms ≈ 85)", sc.ErrorsBy, sc.Hold.Count)
	}
	// P(a draw < 45 ms) = 1/4 and P(a draw > 100 ms) = 1/5: at 40 draws, a
	// median under 45 ms has odds of about 1e-4, no hold above 100 ms
	// 0.8^40 ≈ 1.3e-4; far less at the ~80 a run makes.
	if sc.Hold.Min < 20*time.Millisecond || sc.Hold.P50 < 45*time.Millisecond || sc.Hold.Max < 100*time.Millisecond {
		t.Errorf("hold min %v, p50 %v, max %v: want every hold ≥ 20ms, the median ≥ 45ms and the longest ≥ 100ms (uniform in 20ms..120ms)",
			sc.Hold.Min, sc.Hold.P50, sc.Hold.Max)
	}
}
