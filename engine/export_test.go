package engine

import "time"

// Test hooks: unexported values the external tests need.

// SampleInterval is how often the pool is sampled.
const SampleInterval = sampleInterval

// PlannedUsers is the number of users scenario i of prog plans at offset at.
func PlannedUsers(prog *Program, i int, at time.Duration) int {
	return prog.scenarios[i].Shape.Users(at)
}

// SetArgTimeout sets the time budget of one args evaluation of prog, in
// place of exprbudget.DefaultTimeout.
func SetArgTimeout(prog *Program, d time.Duration) { prog.testArgTimeout = d }

// SetServiceReadyTimeout bounds the wait for target.service to be ready
// (no plan key sets it; the default is a minute).
func SetServiceReadyTimeout(prog *Program, d time.Duration) {
	prog.Target.Service.Spec.ReadyTimeout = d
}
