//go:build race

package runtime_test

// interpRace reports whether the race detector is on (it changes what
// allocates).
const interpRace = true
