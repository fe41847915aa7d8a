package engine

import (
	"fmt"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// MaxSegments is the highest segment count --segment accepts.
const MaxSegments = 1000

// Execution segments (--segment i/N): segment i of N runs the i-th of N
// disjoint slices of every scenario, such that the N slices add up to the
// plan exactly. Users, stage users and max_in_flight are split as whole
// numbers (splitCount), rates divided by N, and the plan's replicas split
// into contiguous blocks (segmentReplicas). Durations are never split: every
// segment runs every scenario for its whole length, so the slices stay
// aligned in time (a slice of 0 users runs idle). See docs/segments.md.

// splitCount is segment i's share (1-based, of count) of n whole things:
// ⌊n·i/count⌋ − ⌊n·(i−1)/count⌋. The count shares add up to n exactly, each
// is within 1 of n/count, and the larger shares go to the later segments
// (7 over 3: 2, 2, 3). n ≥ 0 and 1 ≤ i ≤ count.
func splitCount(n, i, count int) int {
	return floorShare(n, i, count) - floorShare(n, i-1, count)
}

// floorShare is ⌊n·i/count⌋ without computing n·i, which could overflow.
func floorShare(n, i, count int) int {
	q, r := n/count, n%count
	return q*i + r*i/count
}

// segmentReplicas lists the replicas segment i of count owns, numbered from
// 1 across the plan's r replicas: the contiguous block
// ⌊r·(i−1)/count⌋+1 … ⌊r·i/count⌋ (5 over 2: [1 2] and [3 4 5]). It is empty
// when r < count.
func segmentReplicas(r, i, count int) []int {
	var out []int
	for k := floorShare(r, i-1, count) + 1; k <= floorShare(r, i, count); k++ {
		out = append(out, k)
	}
	return out
}

// segmentSeed is the seed of segment i's random streams: the plan's seed
// mixed with the segment index (a SplitMix64 step), so that each segment
// draws an independent schedule (N Poisson processes at rate/N add up to
// one at the plan's rate) and its users independent picks. The run records
// the plan's seed; the seed and --segment together replay a segment.
func segmentSeed(seed int64, i int) int64 {
	z := uint64(seed) + uint64(i)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return int64(z ^ z>>31)
}

// checkSegment reports a bad --segment (the CLI checks it too) and a plan
// that cannot be split as asked, as plan errors.
func checkSegment(plan *schema.Plan, seg results.Segment, replicas int, errs *schema.Errors) bool {
	if seg.Count == 0 {
		return true
	}
	file := schema.Pos{File: plan.File}
	if seg.Count < 1 || seg.Count > MaxSegments || seg.Index < 1 || seg.Index > seg.Count {
		errs.Add(file, fmt.Sprintf("write --segment i/N with 1 ≤ i ≤ N ≤ %d", MaxSegments), "--segment %d/%d is not a segment", seg.Index, seg.Count)
		return false
	}
	if seg.Count == 1 {
		return true
	}
	ok := true
	if replicas < seg.Count {
		errs.Add(file, fmt.Sprintf("set target.replicas to at least %d (a multiple of %d spreads them evenly)", seg.Count, seg.Count),
			"--segment %d/%d: a segment runs at least one replica (application instance), and target.replicas is %d", seg.Index, seg.Count, replicas)
		ok = false
	}
	if plan.Target.URL == "" {
		pos := plan.Target.URLPos
		if pos.Line == 0 {
			pos = file
		}
		errs.Add(pos, "set target.url (or DATABASE_URL) to the server every segment loads",
			"--segment %d/%d: segments meet on the plan's server (setup, start, teardown), and the plan names none: each would start a throwaway server of its own", seg.Index, seg.Count)
		ok = false
	}
	return ok
}

// applySegment makes prog the slice seg of the plan: a share of every
// scenario's users, rates and max_in_flight, its block of replicas, and
// seeds of its own. seg is valid (checkSegment). Count 0 leaves prog whole;
// Count 1 leaves the load whole and records the segment (--start-at alone).
func applySegment(prog *Program, seg results.Segment) {
	if seg.Count == 0 {
		return
	}
	prog.Segment = &results.Segment{Index: seg.Index, Count: seg.Count, StartAt: seg.StartAt}
	if seg.Count > 1 {
		prog.Replicas = segmentReplicas(prog.Target.Replicas, seg.Index, seg.Count)
		for _, sc := range prog.scenarios {
			splitScenario(sc, seg.Index, seg.Count)
			sc.seed = segmentSeed(sc.seed, seg.Index)
		}
	}
	prog.Segment.Replicas = append([]int(nil), prog.Replicas...)
}

// splitScenario scales sc to segment i of count in place.
func splitScenario(sc *scenario, i, count int) {
	for k := range sc.Shape {
		sc.Shape[k].Users = splitCount(sc.Shape[k].Users, i, count)
	}
	if m := sc.Open; m != nil {
		for k := range m.Profile {
			m.Profile[k].Rate /= float64(count)
		}
		m.MaxInFlight = max(1, splitCount(m.MaxInFlight, i, count))
		if m.Arrival.uniform {
			m.Arrival.phase = float64(i-1) / float64(count)
		}
	}
}

// copySegment is a copy of seg for a run's results (nil stays nil).
func copySegment(seg *results.Segment) *results.Segment {
	if seg == nil {
		return nil
	}
	c := *seg
	c.Replicas = append([]int(nil), seg.Replicas...)
	return &c
}
