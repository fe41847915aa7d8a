package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// startAtPastWarning is how far in the past --start-at may be before a
// warning: the segments then start as soon as each is ready.
const startAtPastWarning = 5 * time.Second

// segmentFlags are --segment i/N and --start-at RFC3339 (docs/segments.md).
type segmentFlags struct {
	index, count int
	startAt      time.Time
}

// register adds the flags to fs; startAt is only for commands that run load.
func (f *segmentFlags) register(fs *flag.FlagSet, startAt bool) {
	fs.Func("segment", "run the i-th of N slices of the plan, written i/N (1 ≤ i ≤ N ≤ 1000)", f.setSegment)
	if startAt {
		fs.Func("start-at", "begin the first scenario at this instant, RFC 3339 (e.g. 2025-06-01T12:00:00Z)", f.setStartAt)
	}
}

func (f *segmentFlags) setSegment(v string) error {
	i, n, ok := strings.Cut(v, "/")
	index, err1 := strconv.Atoi(strings.TrimSpace(i))
	count, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("%q is not i/N (hint: --segment 2/4 runs the second of 4 slices)", v)
	}
	if count < 1 || count > engine.MaxSegments || index < 1 || index > count {
		return fmt.Errorf("%q: want 1 ≤ i ≤ N ≤ %d (hint: the segments of a plan are 1/N … N/N)", v, engine.MaxSegments)
	}
	f.index, f.count = index, count
	return nil
}

func (f *segmentFlags) setStartAt(v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 instant (hint: 2025-06-01T12:00:00Z, or with an offset: 2025-06-01T14:00:00+02:00)", v)
	}
	if t.Before(time.Unix(0, 0)) {
		// 0001-01-01T00:00:00Z is also Go's zero time, which reads as no
		// --start-at at all: refused rather than silently ignored.
		return fmt.Errorf("%q is before 1970: --start-at is the instant the segments begin, at most a few minutes ahead (hint: %s)",
			v, time.Now().UTC().Add(2*time.Minute).Truncate(time.Minute).Format(time.RFC3339))
	}
	f.startAt = t
	return nil
}

// segment is the engine's segment option: the zero value when neither flag
// was given, segment 1/1 for --start-at alone. It warns on stderr when
// --start-at has passed.
func (f *segmentFlags) segment(stderr io.Writer) results.Segment {
	if !f.startAt.IsZero() {
		if late := -time.Until(f.startAt); late > startAtPastWarning {
			fmt.Fprintf(stderr, "planrun: warning: --start-at %s was %s ago; this segment starts as soon as it is ready\n",
				f.startAt.Format(time.RFC3339), humanize.Duration(late.Truncate(time.Second)))
		}
	}
	if f.count == 0 && f.startAt.IsZero() {
		return results.Segment{}
	}
	s := results.Segment{Index: f.index, Count: f.count, StartAt: f.startAt}
	if s.Count == 0 {
		s.Index, s.Count = 1, 1
	}
	return s
}
