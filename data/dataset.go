package data

import (
	"fmt"
	"strconv"
)

// Shapes: N sequences, F features, K labels, len_i steps of sequence i.

// Dataset is a set of variable-length sequences holding valid steps only,
// with their labels when the file has them. Sequence i is X[i], len_i·F
// values row-major over its steps (step t, feature f at X[i][t·F+f]); its
// labels are Y[i·K : (i+1)·K]: each 0 or 1 (LabelBinary), the class index
// (LabelClass, K = 1) or any finite value (LabelValue), as Target says.
// Per-step labels (Schema.PerStep) are YStep[i], len_i·K values with NaN
// where a step has no label, and Y is nil. A Dataset read without labels
// (LabelsOptional, LabelsIgnored) has Y and YStep nil; K is still the
// number of labels the caller's schema names, the labels a model predicts
// for it.
//
// Readers return datasets whose every sequence has at least one step and
// whose values are finite, except that X holds NaN for missing values when
// the Schema allows them (Schema.Missing). A categorical feature holds its
// category's index. Subset shares the step storage of its parent, so X's
// rows must be treated as read-only once a dataset is shared.
type Dataset struct {
	Source string      // the file it came from (for messages); "" when built in memory
	F, K   int         // features per step, labels per sequence
	X      [][]float32 // [N] sequences, each [len_i·F] row-major over its valid steps only
	Y      []float32   // [N·K] per-sequence labels; nil without them
	// YStep holds per-step labels ([N][len_i·K], NaN where a step has no
	// label); nil unless the labels are per step.
	YStep  [][]float32
	Target LabelKind // what the labels hold
	// IDs names the sequences: CSV ids in order of first appearance, or the
	// original indices of a Subset of an NPZ file. nil means index i is the
	// id (a whole NPZ file).
	IDs []string
	// StepValues holds each step's value as a CSV file's step column writes it
	// ([N][len_i], in step order), so that output can name steps as the
	// input does; nil when the file has no step column (NPZ files, CSV in
	// file order).
	StepValues [][]string
	// FeatureNames and LabelNames come from the CSV header when known
	// (len F and len K; LabelNames nil without labels), else nil.
	FeatureNames, LabelNames []string
}

// Labelled reports whether the data has labels, per sequence or per step.
func (d *Dataset) Labelled() bool { return d.Y != nil || d.YStep != nil }

// N is the number of sequences.
func (d *Dataset) N() int { return len(d.X) }

// Len is the number of valid steps of sequence i.
func (d *Dataset) Len(i int) int { return len(d.X[i]) / d.F }

// MaxLen is the longest sequence's length, 0 for an empty dataset.
func (d *Dataset) MaxLen() int {
	m := 0
	for i := range d.X {
		m = max(m, d.Len(i))
	}
	return m
}

// Steps is the total number of valid steps, Σ len_i.
func (d *Dataset) Steps() int {
	n := 0
	for _, x := range d.X {
		n += len(x)
	}
	return n / d.F
}

// ID names sequence i for messages and prediction files: its CSV id, or its
// index in the file it came from.
func (d *Dataset) ID(i int) string {
	if d.IDs != nil {
		return d.IDs[i]
	}
	return strconv.Itoa(i)
}

// StepValue names step t (from 0) of sequence i as the file does: the step
// column's cell, or the step's position counted from 1 when the file has
// no step column.
func (d *Dataset) StepValue(i, t int) string {
	if d.StepValues != nil {
		return d.StepValues[i][t]
	}
	return strconv.Itoa(t + 1)
}

// Labels returns the K labels of sequence i (a view into Y); nil without
// labels.
func (d *Dataset) Labels(i int) []float32 {
	if d.Y == nil {
		return nil
	}
	return d.Y[i*d.K : (i+1)*d.K : (i+1)*d.K]
}

// Positives counts, for each label, the sequences where it is 1 ([K]); all
// 0 without per-sequence labels.
func (d *Dataset) Positives() []int {
	p := make([]int, d.K)
	for i, v := range d.Y {
		if v == 1 {
			p[i%d.K]++
		}
	}
	return p
}

// Subset returns the sequences idx in that order. Step data and step
// values are shared with d (not copied); labels and ids are copied. A
// subset of a file without ids gets the original indices as ids, so ID
// keeps naming sequences as the file does.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := &Dataset{
		Source:       d.Source,
		F:            d.F,
		K:            d.K,
		X:            make([][]float32, len(idx)),
		IDs:          make([]string, len(idx)),
		FeatureNames: d.FeatureNames,
		LabelNames:   d.LabelNames,
		Target:       d.Target,
	}
	if d.Y != nil {
		s.Y = make([]float32, 0, len(idx)*d.K)
	}
	if d.YStep != nil {
		s.YStep = make([][]float32, len(idx))
	}
	if d.StepValues != nil {
		s.StepValues = make([][]string, len(idx))
	}
	for j, i := range idx {
		if i < 0 || i >= d.N() {
			panic(fmt.Sprintf("data: Subset: index %d out of range [0, %d)", i, d.N()))
		}
		s.X[j] = d.X[i]
		s.Y = append(s.Y, d.Labels(i)...)
		s.IDs[j] = d.ID(i)
		if s.StepValues != nil {
			s.StepValues[j] = d.StepValues[i]
		}
		if s.YStep != nil {
			s.YStep[j] = d.YStep[i]
		}
	}
	return s
}

// Split holds out a fraction frac ∈ [0, 1) of the sequences for validation,
// deterministically for a seed. Every sequence lands in exactly one part and
// both parts keep the original order.
//
// With one binary label, or classes, the split is stratified: each class c
// of n_c sequences sends round(frac·n_c) of them to val, but at least one
// when n_c ≥ 2 and frac > 0, and always at most n_c − 1, so training keeps
// every class and val does too whenever the data allow it. Otherwise
// (several labels, real-valued targets, per-step labels, no labels) a plain
// random round(frac·N) go to val, with the same bounds over all N
// sequences. frac = 0 gives an empty val.
func (d *Dataset) Split(frac float64, seed uint64) (train, val *Dataset) {
	ti, vi := d.SplitIndex(frac, seed)
	return d.Subset(ti), d.Subset(vi)
}

// SplitIndex is Split's choice as the indices of each part, in increasing
// order: Split gives d.Subset of each.
func (d *Dataset) SplitIndex(frac float64, seed uint64) (train, val []int) {
	if !(frac >= 0 && frac < 1) {
		panic(fmt.Sprintf("data: Split: fraction %v outside [0, 1)", frac))
	}
	inVal := make([]bool, d.N())
	rng := newRNG(seed, splitStream)
	pick := func(group []int) {
		n := len(group)
		v := int(frac*float64(n) + 0.5)
		if frac > 0 && n >= 2 {
			v = max(v, 1)
		}
		v = min(v, max(n-1, 0))
		rng.shuffle(group)
		for _, i := range group[:v] {
			inVal[i] = true
		}
	}
	if d.K == 1 && d.Y != nil && d.Target != LabelValue {
		// Classes in index order: for 0/1 labels the negatives, then the
		// positives.
		var groups [][]int
		for i, v := range d.Y {
			c := int(v)
			for len(groups) <= c {
				groups = append(groups, nil)
			}
			groups[c] = append(groups[c], i)
		}
		for _, g := range groups {
			pick(g)
		}
	} else {
		all := make([]int, d.N())
		for i := range all {
			all[i] = i
		}
		pick(all)
	}
	var ti, vi []int
	for i, v := range inVal {
		if v {
			vi = append(vi, i)
		} else {
			ti = append(ti, i)
		}
	}
	return ti, vi
}

// Padded returns the sequences idx as a right-padded batch, the ONNX model's
// inputs: x [B·T·F] row-major [B, T, F] with zeros past each length, lengths
// [B], and T the longest of their lengths.
func (d *Dataset) Padded(idx []int) (x []float32, lengths []int32, T int) {
	for _, i := range idx {
		T = max(T, d.Len(i))
	}
	x = make([]float32, len(idx)*T*d.F)
	lengths = make([]int32, len(idx))
	d.PadInto(x, lengths, idx, T)
	return x, lengths, T
}

// PadInto writes the sequences idx into x [B·T·F] ([B, T, F], zeros past each
// length: every element of x is written) and their lengths into lengths [B],
// allocating nothing. T must be at least the longest of their lengths.
func (d *Dataset) PadInto(x []float32, lengths []int32, idx []int, T int) {
	row := T * d.F
	if len(x) != len(idx)*row || len(lengths) != len(idx) {
		panic(fmt.Sprintf("data: PadInto: %d values and %d lengths for %d sequences of %d×%d", len(x), len(lengths), len(idx), T, d.F))
	}
	for b, i := range idx {
		s := d.X[i]
		if len(s) > row {
			panic(fmt.Sprintf("data: PadInto: sequence %d has %d steps, T is %d", i, d.Len(i), T))
		}
		dst := x[b*row : (b+1)*row]
		copy(dst, s)
		clear(dst[len(s):])
		lengths[b] = int32(len(s) / d.F)
	}
}

// check panics if d's slices disagree with each other (a programming error
// in whoever built d).
func (d *Dataset) check(where string) {
	if d.F < 1 || d.K < 1 {
		panic(fmt.Sprintf("data: %s: F = %d, K = %d", where, d.F, d.K))
	}
	if d.Y != nil && len(d.Y) != d.N()*d.K {
		panic(fmt.Sprintf("data: %s: %d labels for %d sequences of %d", where, len(d.Y), d.N(), d.K))
	}
	if d.YStep != nil && len(d.YStep) != d.N() {
		panic(fmt.Sprintf("data: %s: per-step labels for %d sequences of %d", where, len(d.YStep), d.N()))
	}
	if d.StepValues != nil && len(d.StepValues) != d.N() {
		panic(fmt.Sprintf("data: %s: step values for %d sequences of %d", where, len(d.StepValues), d.N()))
	}
	if d.IDs != nil && len(d.IDs) != d.N() {
		panic(fmt.Sprintf("data: %s: %d ids for %d sequences", where, len(d.IDs), d.N()))
	}
	for i, x := range d.X {
		if len(x) == 0 || len(x)%d.F != 0 {
			panic(fmt.Sprintf("data: %s: sequence %d has %d values for %d features", where, i, len(x), d.F))
		}
		if d.YStep != nil && len(d.YStep[i]) != len(x)/d.F*d.K {
			panic(fmt.Sprintf("data: %s: sequence %d has %d steps and %d per-step labels", where, i, len(x)/d.F, len(d.YStep[i])))
		}
		if d.StepValues != nil && len(d.StepValues[i]) != len(x)/d.F {
			panic(fmt.Sprintf("data: %s: sequence %d has %d steps and %d step values", where, i, len(x)/d.F, len(d.StepValues[i])))
		}
	}
}
