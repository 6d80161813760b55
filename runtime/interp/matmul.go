package interp

// ONNX MatMul and Gemm. float32 products go through ops.Gemm (the kernel
// the recurrent layers use); the other types use a plain triple loop, or
// ops.GemmF64 for Gemm on float64.
//
// Shape legend: M rows of A, K inner dimension, N columns of B.

import (
	"fmt"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// matMul is numpy's matmul: a 1-D A is a row [1, K] and a 1-D B a
// column [K, 1] (the added dimension is dropped from the result), and the
// leading (batch) dimensions of A and B broadcast together.
func matMul(a, b *graph.Tensor, alloc allocator) (*graph.Tensor, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("operands have different types: %v and %v", a.DType, b.DType)
	}
	if a.DType == graph.Bool {
		return nil, fmt.Errorf("expected numeric operands, found bool")
	}
	ra, rb := len(a.Shape), len(b.Shape)
	if ra == 0 || rb == 0 {
		return nil, fmt.Errorf("operands must have rank ≥ 1, found shapes %s and %s", graph.FormatShape(a.Shape), graph.FormatShape(b.Shape))
	}
	as, bs := a.Shape, b.Shape
	if ra == 1 {
		as = []int{1, as[0]}
	}
	if rb == 1 {
		bs = []int{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, n := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, fmt.Errorf("shapes %s and %s: inner dimensions %d and %d differ", graph.FormatShape(a.Shape), graph.FormatShape(b.Shape), k, k2)
	}
	batchA, batchB := as[:len(as)-2], bs[:len(bs)-2]
	batch, err := broadcastShapes(batchA, batchB)
	if err != nil {
		return nil, fmt.Errorf("batch dimensions of %s and %s are not broadcastable", graph.FormatShape(a.Shape), graph.FormatShape(b.Shape))
	}
	shape := append([]int(nil), batch...)
	if ra > 1 {
		shape = append(shape, m)
	}
	if rb > 1 {
		shape = append(shape, n)
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	out := alloc.get(a.DType, shape)
	p := newBcastPlan(batch, batchA, batchB)
	// Each "element" of the batch walk is one matrix product.
	sa, sb := p.inner[0], p.inner[1]
	p.run(func(o int, off []int, cnt int) {
		for i := range cnt {
			ia, ib, io := (off[0]+i*sa)*m*k, (off[1]+i*sb)*k*n, (o+i)*m*n
			matmulOne(out, io, a, ia, b, ib, m, n, k)
		}
	})
	return out, nil
}

// matmulOne computes out[io:] = a[ia:] (m×k) · b[ib:] (k×n).
func matmulOne(out *graph.Tensor, io int, a *graph.Tensor, ia int, b *graph.Tensor, ib int, m, n, k int) {
	if m == 0 || n == 0 {
		return
	}
	switch a.DType {
	case graph.Float32:
		c := out.F32[io : io+m*n]
		if k == 0 {
			clear(c)
			return
		}
		ops.Gemm(false, false, m, n, k, 1, a.F32[ia:ia+m*k], k, b.F32[ib:ib+k*n], n, 0, c, n)
	case graph.Float64:
		matmulNaive(out.F64[io:io+m*n], a.F64[ia:ia+m*k], b.F64[ib:ib+k*n], m, n, k)
	case graph.Int32:
		matmulNaive(out.I32[io:io+m*n], a.I32[ia:ia+m*k], b.I32[ib:ib+k*n], m, n, k)
	case graph.Int64:
		matmulNaive(out.I64[io:io+m*n], a.I64[ia:ia+m*k], b.I64[ib:ib+k*n], m, n, k)
	}
}

// matmulNaive computes c = a·b for row-major a [M, K], b [K, N], c [M, N].
func matmulNaive[T number](c, a, b []T, m, n, k int) {
	for i := range m {
		ci := c[i*n : (i+1)*n]
		clear(ci)
		for p := range k {
			av := a[i*k+p]
			bp := b[p*n : (p+1)*n]
			for j := range ci {
				ci[j] += av * bp[j]
			}
		}
	}
}

// scaleC sets out [M, N] to beta·C, C broadcast to out's shape. A C that
// tiles out (a bias row, or C as large as out) is copied row by row: a
// model run step by step would otherwise make a broadcast plan every call.
func scaleC(out, c *graph.Tensor, beta float32) {
	if c.DType == graph.Float32 && tiles(out.Shape, c.Shape) {
		if n := len(c.F32); n > 0 {
			for o := 0; o < len(out.F32); o += n {
				for i, v := range c.F32 {
					out.F32[o+i] = beta * v
				}
			}
		}
		return
	}
	p := newBcastPlan(out.Shape, c.Shape)
	s := p.inner[0]
	p.run(func(o int, off []int, cnt int) {
		for i := range cnt {
			if c.DType == graph.Float32 {
				out.F32[o+i] = beta * c.F32[off[0]+i*s]
			} else {
				out.F64[o+i] = float64(beta) * c.F64[off[0]+i*s]
			}
		}
	})
}

// gemm computes Y = alpha·op(A)·op(B) + beta·C for 2-D float A and B,
// where op transposes when transA/transB is set; C (optional, nil) must
// broadcast to [M, N].
func gemm(a, b, c *graph.Tensor, transA, transB bool, alpha, beta float32, alloc allocator) (*graph.Tensor, error) {
	if a.DType != b.DType || (c != nil && c.DType != a.DType) {
		return nil, fmt.Errorf("operands have different types")
	}
	if a.DType != graph.Float32 && a.DType != graph.Float64 {
		return nil, fmt.Errorf("expected float operands, found %v", a.DType)
	}
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, fmt.Errorf("A and B must be matrices, found shapes %s and %s", graph.FormatShape(a.Shape), graph.FormatShape(b.Shape))
	}
	m, k := a.Shape[0], a.Shape[1]
	if transA {
		m, k = k, m
	}
	k2, n := b.Shape[0], b.Shape[1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("A %s (transA=%v) and B %s (transB=%v): inner dimensions %d and %d differ",
			graph.FormatShape(a.Shape), transA, graph.FormatShape(b.Shape), transB, k, k2)
	}
	shape := []int{m, n}
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	out := alloc.get(a.DType, shape)
	haveC := c != nil && beta != 0
	if c != nil && !tiles(shape, c.Shape) {
		if len(c.Shape) > 2 {
			return nil, fmt.Errorf("C has shape %s, which does not broadcast to [%d, %d]", graph.FormatShape(c.Shape), m, n)
		}
		got, err := broadcastShapes(c.Shape, shape)
		if err != nil || got[0] != m || got[1] != n {
			return nil, fmt.Errorf("C has shape %s, which does not broadcast to [%d, %d]", graph.FormatShape(c.Shape), m, n)
		}
	}
	if haveC {
		// out = beta·C broadcast, then the product is accumulated into it.
		scaleC(out, c, beta)
	}
	if a.DType == graph.Float32 {
		switch {
		case m == 0 || n == 0:
		case k == 0:
			if !haveC {
				clear(out.F32)
			}
		default:
			var bt float32
			if haveC {
				bt = 1
			}
			ops.Gemm(transA, transB, m, n, k, alpha, a.F32, a.Shape[1], b.F32, b.Shape[1], bt, out.F32, n)
		}
		return out, nil
	}
	// float64 has no fast kernel: the reference one serves (beta 1 adds C).
	var bt64 float64
	if haveC {
		bt64 = 1
	}
	ops.GemmF64(transA, transB, m, n, k, float64(alpha), a.F64, a.Shape[1], b.F64, b.Shape[1], bt64, out.F64, n)
	return out, nil
}
