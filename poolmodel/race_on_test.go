//go:build race

package poolmodel_test

// raceEnabled: the race detector slows the simulation about tenfold.
const raceEnabled = true
