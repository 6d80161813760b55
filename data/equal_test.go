package data

import "slices"

// Equal reports whether two datasets hold the same sequences, labels, ids
// and names (Source is not compared). Values compare bit for bit.
func (d *Dataset) Equal(e *Dataset) bool {
	if d.F != e.F || d.K != e.K || d.N() != e.N() {
		return false
	}
	for i := range d.X {
		if !slices.Equal(d.X[i], e.X[i]) {
			return false
		}
	}
	return slices.Equal(d.Y, e.Y) && slices.Equal(d.IDs, e.IDs) &&
		slices.Equal(d.FeatureNames, e.FeatureNames) && slices.Equal(d.LabelNames, e.LabelNames)
}
