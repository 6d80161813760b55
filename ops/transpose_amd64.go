//go:build amd64 && !purego

package ops

// transpose8Asm sets dst [cols, rows] to src [rows, cols] transposed (AVX2,
// transpose_amd64.s); rows and cols are positive multiples of 8, and both
// slices behind the pointers hold rows·cols elements.
//
//go:noescape
func transpose8Asm(dst, src *float32, rows, cols int)
