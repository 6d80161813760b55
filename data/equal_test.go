package data

import (
	"math"
	"slices"
)

// Equal reports whether two datasets hold the same sequences, labels, ids
// and names (Source is not compared). Values compare bit for bit, so NaN
// (a missing value, a step without a label) equals NaN.
func (d *Dataset) Equal(e *Dataset) bool {
	if d.F != e.F || d.K != e.K || d.N() != e.N() || d.Target != e.Target || (d.YStep == nil) != (e.YStep == nil) {
		return false
	}
	for i := range d.X {
		if !sameBits(d.X[i], e.X[i]) || d.YStep != nil && !sameBits(d.YStep[i], e.YStep[i]) {
			return false
		}
	}
	return sameBits(d.Y, e.Y) && (d.Y == nil) == (e.Y == nil) && slices.Equal(d.IDs, e.IDs) &&
		slices.Equal(d.FeatureNames, e.FeatureNames) && slices.Equal(d.LabelNames, e.LabelNames)
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}
