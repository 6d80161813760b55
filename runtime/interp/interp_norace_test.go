//go:build !race

package interp

// interpRace reports whether the race detector is on (it changes what
// allocates).
const interpRace = false
