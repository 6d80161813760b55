package peak

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/cpu"
)

// fma512 and fma256 run n rounds of ten independent multiply-add chains
// of 16 and 8 lanes (fma_amd64.s).
func fma512(n int)
func fma256(n int)

// flopPerRound is what one round of a kernel computes: ten multiply-adds
// (two FLOP each) on every lane.
func flopPerRound(lanes int) float64 { return float64(10 * lanes * 2) }

// rate runs kernel on every core for about d and returns GFLOP/s.
func rate(kernel func(int), lanes int, d time.Duration) float64 {
	const rounds = 1 << 20
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	total := make([]int, procs)
	start := time.Now()
	for p := range procs {
		wg.Go(func() {
			for time.Since(start) < d {
				kernel(rounds)
				total[p] += rounds
			}
		})
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	n := 0
	for _, r := range total {
		n += r
	}
	return float64(n) * flopPerRound(lanes) / el / 1e9
}

// BenchmarkFMAPeak reports the best of three short runs of each width,
// on all cores (gflops) and per core (gflops/core).
func BenchmarkFMAPeak(b *testing.B) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		b.Skip("no AVX2 with FMA on this CPU")
	}
	best := 0.0
	for range b.N {
		for range 3 {
			best = max(best, rate(fma256, 8, 200*time.Millisecond))
			if cpu.X86.HasAVX512F {
				best = max(best, rate(fma512, 16, 200*time.Millisecond))
			}
		}
	}
	b.ReportMetric(best, "gflops")
	b.ReportMetric(best/float64(runtime.GOMAXPROCS(0)), "gflops/core")
}

// TestFMAKernelsRun checks that both kernels return and that rate counts
// rounds: a kernel that did nothing would report an absurd rate.
func TestFMAKernelsRun(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 with FMA on this CPU")
	}
	g := rate(fma256, 8, 20*time.Millisecond)
	if g <= 0 || g > 10000 {
		t.Fatalf("fma256: %.1f GFLOP/s, want a positive rate below 10 TFLOP/s", g)
	}
}
