package data

import "math"

// Shapes: N sequences, T = d.MaxLen(), K labels per step.

// stepLabelArray is d's per-step labels as the NPZ array y: [N, T] for one
// label per step, [N, T, K] otherwise, NaN at unlabelled and padded steps.
func stepLabelArray(d *Dataset, T int) any {
	nan := float32(math.NaN())
	rows := make([][]float32, d.N())
	for i := range rows {
		row := make([]float32, T*d.K)
		n := copy(row, d.YStep[i])
		for j := n; j < len(row); j++ {
			row[j] = nan
		}
		rows[i] = row
	}
	if d.K == 1 {
		return rows
	}
	y := make([][][]float32, d.N())
	for i, row := range rows {
		y[i] = make([][]float32, T)
		for t := range y[i] {
			y[i][t] = row[t*d.K : (t+1)*d.K]
		}
	}
	return y
}
