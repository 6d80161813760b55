//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

// haveOptimAsm reports whether adamAsm and addToAsm can run (AVX-512F).
var haveOptimAsm = cpu.X86.HasAVX512F

// adamAsm is adamGo on the first n elements, n a positive multiple of 16,
// with h's fields read at their offsets (adam_amd64.s). It is
// adam_amd64.s.
//
//go:noescape
func adamAsm(n int, p, grad, m, v *float32, h *AdamHyper)

// addToAsm adds src to dst on the first n elements, n a positive multiple
// of 16.
//
//go:noescape
func addToAsm(n int, dst, src *float32)
