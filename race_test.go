//go:build race

package trnn_test

// raceOn reports whether the race detector is on: it makes sync.Pool drop
// what it holds, so that allocation counts mean nothing.
const raceOn = true
