package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
)

// array is one entry of a test archive.
type array struct {
	name string
	v    any
}

// writeTestNPZ writes arrays (nested slices give the shapes) as an NPZ file.
func writeTestNPZ(t *testing.T, arrays ...array) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gaps.npz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := npz.NewWriter(f)
	for _, a := range arrays {
		if err := zw.Write(a.name+".npy", a.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// gapX is x [2, 3, 2]: sequence 0 has 3 steps, sequence 1 has 2 and NaN
// padding; feature 1 is categorical (4 categories).
func gapX(v ...float32) [][][]float32 {
	x := [][][]float32{{{80, 1}, {nan, 3}, {nan, nan}}, {{90, 0}, {91, nan}, {nan, nan}}}
	if len(v) == 3 { // sequence, step·2+feature, value
		x[int(v[0])][int(v[1])/2][int(v[1])%2] = v[2]
	}
	return x
}

var gapLengths = []int32{3, 2}

func TestNPZGaps(t *testing.T) {
	s := gapSchema()
	s.Features, s.Labels = 2, 1
	path := writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", []float32{1, 0}})
	d, err := Load(path, *s)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(d.X[0], []float32{80, 1, nan, 3, nan, nan}) || !sameBits(d.X[1], []float32{90, 0, 91, nan}) {
		t.Errorf("X = %v", d.X)
	}
	// Without missing values allowed, NaN is refused as before, and the
	// message says how to allow it.
	s.Missing = false
	_, err = Load(path, *s)
	wantExact(t, err, path+`: x[0, 1, 0]: NaN in a valid step (sequence 0 has 3 steps); missing values are refused unless the spec sets inputs.missing`)
	s.Missing = true

	for _, tc := range []struct {
		edit []float32
		want string
	}{
		{[]float32{1, 1, 1.5}, `x[1, 0, 1]: categorical feature "gcs" has 4 categories: want an index from 0 to 3, got 1.5`},
		{[]float32{1, 1, 4}, `x[1, 0, 1]: categorical feature "gcs" has 4 categories: want an index from 0 to 3, got 4`},
		{[]float32{0, 3, -1}, `x[0, 1, 1]: categorical feature "gcs" has 4 categories: want an index from 0 to 3, got -1`},
		{[]float32{0, 0, float32(posInf())}, `x[0, 0, 0]: +Inf in a valid step (sequence 0 has 3 steps)`},
	} {
		p := writeTestNPZ(t, array{"x", gapX(tc.edit...)}, array{"lengths", gapLengths}, array{"y", []float32{1, 0}})
		_, err := Load(p, *s)
		wantExact(t, err, p+": "+tc.want)
	}
	// Padding is never read, categorical or not.
	x := gapX()
	x[1][2] = []float32{float32(posInf()), 99}
	p := writeTestNPZ(t, array{"x", x}, array{"lengths", gapLengths}, array{"y", []float32{1, 0}})
	if _, err := Load(p, *s); err != nil {
		t.Errorf("padding read: %v", err)
	}
}

func posInf() float64 { return float64(1) / zero }

var zero = 0.0

func TestNPZPerStepLabels(t *testing.T) {
	s := gapSchema()
	s.Features, s.Labels, s.PerStep = 2, 1, true
	// y [N, T]: NaN where unlabelled; padding may hold anything.
	y := [][]float32{{nan, 1, 0}, {0, nan, 7}}
	path := writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", y})
	d, err := Load(path, *s)
	if err != nil {
		t.Fatal(err)
	}
	if d.Y != nil || !sameBits(d.YStep[0], []float32{nan, 1, 0}) || !sameBits(d.YStep[1], []float32{0, nan}) {
		t.Errorf("YStep = %v, Y = %v", d.YStep, d.Y)
	}
	// y [N, T, K].
	s.Labels = 2
	s.Columns.Labels = []string{"a", "b"}
	y3 := [][][]float32{{{1, nan}, {0, 0}, {nan, nan}}, {{1, 1}, {nan, 0}, {5, 5}}}
	path = writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", y3})
	if d, err = Load(path, *s); err != nil {
		t.Fatal(err)
	}
	if !sameBits(d.YStep[1], []float32{1, 1, nan, 0}) || d.K != 2 {
		t.Errorf("YStep = %v", d.YStep)
	}
	s.Labels = 1
	s.Columns.Labels = []string{"y"}

	for _, tc := range []struct {
		y    any
		want string
	}{
		{[][]float32{{nan, 2, 0}, {0, nan, 0}}, `y[0, 1]: labels must be 0 or 1, got 2`},
		{[]float32{1, 0}, `y has 1 dimensions, want per-step labels (outputs.per_step): 2 [sequences, steps] or 3 [sequences, steps, labels]`},
		{[][]float32{{1, 0}, {0, 1}}, `y has 2 steps, x has 3: per-step labels follow x's steps`},
		{[][]float32{{1, 0, 1}}, `y has 1 rows, x has 2 sequences`},
	} {
		p := writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", tc.y})
		_, err := Load(p, *s)
		wantExact(t, err, p+": "+tc.want)
	}

	// Without per_step, a per-step y is refused with a message that names
	// the field.
	s.PerStep = false
	p := writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", y})
	_, err = Load(p, *s)
	wantExact(t, err, p+`: y has 3 labels per sequence, the spec declares 1; y's shape [2, 3] matches x's steps: per-step labels need outputs.per_step: true`)
	p = writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", y3})
	_, err = Load(p, *s)
	if err == nil || !strings.HasSuffix(err.Error(), "per-step labels [sequences, steps, labels] need outputs.per_step: true") {
		t.Errorf("3-D y: %v", err)
	}
}

func TestNPZLabelKinds(t *testing.T) {
	s := Schema{Features: 2, Labels: 1, Columns: gapCols, Missing: true, Target: LabelClass, Classes: []string{"a", "b", "c"}}
	for _, tc := range []struct {
		y    any
		want string
	}{
		{[]float32{2, 0}, ""},
		{[]int64{2, 1}, ""},
		{[][]float64{{2}, {1}}, ""},
		{[]float32{3, 0}, `y[0]: unknown class (want "a", "b", "c", or an index from 0 to 2), got 3`},
		{[]float32{0, 0.5}, `y[1]: unknown class (want "a", "b", "c", or an index from 0 to 2), got 0.5`},
		{[]int8{0, -1}, `y[1]: unknown class (want "a", "b", "c", or an index from 0 to 2), got -1`},
		{[]uint64{0, 1 << 63}, `y[1]: unknown class (want "a", "b", "c", or an index from 0 to 2), got 9223372036854775808`},
		{[]float32{nan, 0}, `y[0]: unknown class (want "a", "b", "c", or an index from 0 to 2), got NaN`},
	} {
		p := writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", tc.y})
		d, err := Load(p, s)
		if tc.want == "" {
			if err != nil || d.Y[0] != 2 || d.Target != LabelClass {
				t.Errorf("%T: %v, %v", tc.y, err, d)
			}
			continue
		}
		wantExact(t, err, p+": "+tc.want)
	}
	s.Target, s.Classes = LabelValue, nil
	p := writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", []float64{-12.25, 1e6}})
	if d, err := Load(p, s); err != nil || d.Y[0] != -12.25 || d.Y[1] != 1e6 {
		t.Errorf("targets: %v %v", err, d)
	}
	for _, y := range [][]float64{{nan64(), 0}, {1e39, 0}} {
		p := writeTestNPZ(t, array{"x", gapX()}, array{"lengths", gapLengths}, array{"y", y})
		_, err := Load(p, s)
		if err == nil || !strings.Contains(err.Error(), ": y[0]: targets must be finite float32 numbers, got ") {
			t.Errorf("target %v: %v", y[0], err)
		}
	}
}

func nan64() float64 { return float64(nan) }
