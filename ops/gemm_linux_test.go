//go:build linux

package ops

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// guardedFloats returns n float32s placed against an inaccessible page:
// ending exactly where it starts when atEnd, else starting right after one.
// A kernel that reads or writes one element past either end of its matrix
// faults, which the value checks of TestGemmSmall cannot see (a read of a
// discarded lane changes no result). free releases the mapping.
func guardedFloats(t *testing.T, n int, atEnd bool) (x []float32, free func()) {
	t.Helper()
	page := unix.Getpagesize()
	data := (n*4 + page - 1) / page * page
	mem, err := unix.Mmap(-1, 0, data+2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	if err := unix.Mprotect(mem[:page], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := unix.Mprotect(mem[page+data:], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	off := page
	if atEnd {
		off = page + data - n*4
	}
	if n == 0 {
		return nil, func() { unix.Munmap(mem) }
	}
	x = unsafe.Slice((*float32)(unsafe.Pointer(&mem[off])), n)
	return x, func() { unix.Munmap(mem) }
}

// TestGemmPageGuards runs products whose A, B and C each end (then start)
// at an inaccessible page, with minimal strides, so no kernel may touch an
// element outside its matrices, in any lane, for any edge shape.
func TestGemmPageGuards(t *testing.T) {
	shapes := [][3]int{
		{1, 1, 1}, {1, 3, 5}, {2, 5, 9}, {3, 2, 7}, {5, 13, 13}, {6, 16, 8}, {7, 17, 17},
		{1, 9, 15}, {13, 1, 3}, {4, 6, 23}, {40, 33, 300}, {33, 20, 16}, {9, 15, 1},
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, impl := range gemmImpls(t) {
		for _, atEnd := range []bool{true, false} {
			for _, s := range shapes {
				for tr := 0; tr < 4; tr++ {
					m, n, k := s[0], s[1], s[2]
					ta, tb := tr&1 != 0, tr&2 != 0
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					a, freeA := guardedFloats(t, m*k, atEnd)
					b, freeB := guardedFloats(t, k*n, atEnd)
					c, freeC := guardedFloats(t, m*n, atEnd)
					for i := range a {
						a[i] = float32(rng.NormFloat64())
					}
					for i := range b {
						b[i] = float32(rng.NormFloat64())
					}
					want := make([]float32, m*n)
					for i := range c {
						c[i] = float32(rng.NormFloat64())
						want[i] = c[i]
					}
					c0 := append([]float32(nil), c...)
					cs := gemmCase{transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1.5, beta: 0.5}
					gemmWith(impl.id, ta, tb, m, n, k, cs.alpha, a, lda, b, ldb, cs.beta, c, n)
					gemmNaive(ta, tb, m, n, k, cs.alpha, a, lda, b, ldb, cs.beta, want, n)
					for i := range c {
						if d := math.Abs(float64(c[i] - want[i])); d > gemmTol(cs, a, lda, b, ldb, c0[i], i/n, i%n) {
							t.Errorf("%s %v: C[%d] = %v, want %v", impl.name, cs, i, c[i], want[i])
							break
						}
					}
					freeA()
					freeB()
					freeC()
				}
			}
		}
	}
}

// threadCPU returns the CPU time the calling thread has used. Benchmarks
// report GFLOP/s over it as well as over wall time: on a machine shared
// with other work, wall time measures the contention more than the kernel.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
