//go:build race

package merge_test

// raceEnabled: the race detector slows decoding and encoding the forged
// corpus's 49 MB histograms about twentyfold (55 s against 2.4 s).
const raceEnabled = true
