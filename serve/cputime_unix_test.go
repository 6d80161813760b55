//go:build unix

package serve

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used so far. On
// a machine shared with other work, benchmarks report it beside wall time:
// it does not count the time the benchmark waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
