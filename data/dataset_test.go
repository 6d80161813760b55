package data

import (
	"math"
	"slices"
	"strconv"
	"testing"
)

// small is a data set of 4 sequences with 2 features.
func small() *Dataset {
	return &Dataset{
		F: 2, K: 1,
		X: [][]float32{
			{1, 2, 3, 4, 5, 6}, // 3 steps
			{7, 8},             // 1 step
			{9, 10, 11, 12},    // 2 steps
			{13, 14},           // 1 step
		},
		Y: []float32{1, 0, 0, 1},
	}
}

func TestDatasetBasics(t *testing.T) {
	d := small()
	if d.N() != 4 || d.Len(0) != 3 || d.Len(1) != 1 || d.MaxLen() != 3 || d.Steps() != 7 {
		t.Errorf("N %d Len %d,%d MaxLen %d Steps %d", d.N(), d.Len(0), d.Len(1), d.MaxLen(), d.Steps())
	}
	if d.ID(2) != "2" || !slices.Equal(d.Labels(3), []float32{1}) || !slices.Equal(d.Positives(), []int{2}) {
		t.Errorf("ID %q Labels %v Positives %v", d.ID(2), d.Labels(3), d.Positives())
	}
	if (&Dataset{F: 1, K: 1}).MaxLen() != 0 {
		t.Error("MaxLen of an empty data set")
	}
}

func TestSubset(t *testing.T) {
	d := small()
	s := d.Subset([]int{2, 0})
	if s.N() != 2 || !slices.Equal(s.X[0], d.X[2]) || !slices.Equal(s.Y, []float32{0, 1}) {
		t.Fatalf("Subset = %v %v", s.X, s.Y)
	}
	if &s.X[1][0] != &d.X[0][0] {
		t.Error("Subset copied the step data")
	}
	// Ids keep naming sequences as the file does, through nested subsets.
	if s.ID(0) != "2" || s.ID(1) != "0" || s.Subset([]int{1}).ID(0) != "0" {
		t.Errorf("ids %v", s.IDs)
	}
	// Appending to a label view must not reach the next sequence.
	l := s.Labels(0)
	_ = append(l, 7)
	if s.Y[1] != 1 {
		t.Error("Labels returned a view with spare capacity")
	}
	mustPanic(t, "data: Subset: index 4 out of range [0, 4)", func() { d.Subset([]int{4}) })
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r == nil || r != want {
			t.Errorf("panic %v, want %q", r, want)
		}
	}()
	f()
}

func TestPadded(t *testing.T) {
	d := small()
	x, lengths, T := d.Padded([]int{1, 0, 3})
	if T != 3 || !slices.Equal(lengths, []int32{1, 3, 1}) {
		t.Fatalf("T %d lengths %v", T, lengths)
	}
	want := []float32{
		7, 8, 0, 0, 0, 0,
		1, 2, 3, 4, 5, 6,
		13, 14, 0, 0, 0, 0,
	}
	if !slices.Equal(x, want) {
		t.Errorf("x = %v\nwant %v", x, want)
	}

	// PadInto writes every element (guards: NaN everywhere before), leaves
	// the data set alone, and allocates nothing.
	const T4 = 4
	buf := make([]float32, 2*T4*2+2) // two guard values at the end
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	xs, ls := buf[:2*T4*2], make([]int32, 2)
	d.PadInto(xs, ls, []int{2, 1}, T4)
	if !slices.Equal(xs, []float32{9, 10, 11, 12, 0, 0, 0, 0, 7, 8, 0, 0, 0, 0, 0, 0}) || !slices.Equal(ls, []int32{2, 1}) {
		t.Errorf("PadInto: %v %v", xs, ls)
	}
	if !math.IsNaN(float64(buf[len(buf)-1])) || !math.IsNaN(float64(buf[len(buf)-2])) {
		t.Error("PadInto wrote past x")
	}
	if !slices.Equal(d.X[2], []float32{9, 10, 11, 12}) {
		t.Error("PadInto changed the data set")
	}
	idx := []int{0, 2}
	if a := testing.AllocsPerRun(100, func() { d.PadInto(xs, ls, idx, T4) }); a != 0 {
		t.Errorf("PadInto allocates %v times per call", a)
	}
	mustPanic(t, "data: PadInto: sequence 0 has 3 steps, T is 2", func() { d.PadInto(make([]float32, 4), make([]int32, 1), []int{0}, 2) })
	mustPanic(t, "data: PadInto: 3 values and 1 lengths for 1 sequences of 2×2", func() { d.PadInto(make([]float32, 3), make([]int32, 1), []int{0}, 2) })
}

func TestSplit(t *testing.T) {
	d := Synth(SynthOptions{N: 503, MinLen: 1, MaxLen: 3, F: 1, K: 1, Seed: 9, PosRate: 0.2})
	pos := d.Positives()[0]
	tr, va := d.Split(0.2, 42)
	// Every sequence in exactly one part, each part in the original order.
	seen := map[string]int{}
	for _, p := range []*Dataset{tr, va} {
		prev := -1
		for i := range p.N() {
			id, _ := strconv.Atoi(p.ID(i))
			if id <= prev {
				t.Fatalf("part out of order at %d", i)
			}
			prev = id
			seen[p.ID(i)]++
			if !slices.Equal(p.X[i], d.X[id]) || p.Y[i] != d.Y[id] {
				t.Fatalf("sequence %d moved without its data", id)
			}
		}
	}
	if len(seen) != d.N() || tr.N()+va.N() != d.N() {
		t.Fatalf("%d distinct sequences in %d + %d, want %d", len(seen), tr.N(), va.N(), d.N())
	}
	// Stratified: each class sends round(0.2·n_c) to val.
	if got, want := va.Positives()[0], int(0.2*float64(pos)+0.5); got != want {
		t.Errorf("val has %d positives, want %d of %d", got, want, pos)
	}
	if got, want := va.N()-va.Positives()[0], int(0.2*float64(d.N()-pos)+0.5); got != want {
		t.Errorf("val has %d negatives, want %d", got, want)
	}
	// Deterministic for a seed, different for another.
	tr2, va2 := d.Split(0.2, 42)
	if !tr.Equal(tr2) || !va.Equal(va2) {
		t.Error("Split is not deterministic")
	}
	_, va3 := d.Split(0.2, 43)
	if slices.Equal(va.IDs, va3.IDs) {
		t.Error("seeds 42 and 43 gave the same split")
	}
	// A fixed split for a fixed seed: the first held-out ids (a change in
	// the shuffle would silently change every user's validation set).
	if got := va.IDs[:5]; !slices.Equal(got, splitGolden) {
		t.Errorf("Split(0.2, 42) holds out %q first, want %q", got, splitGolden)
	}
}

var splitGolden = []string{"22", "23", "24", "27", "32"}

func TestSplitSmallClasses(t *testing.T) {
	// Two positives and three negatives: with frac 0.1 each class still
	// sends one to val and keeps one for training.
	d := &Dataset{F: 1, K: 1, X: [][]float32{{1}, {2}, {3}, {4}, {5}}, Y: []float32{1, 0, 1, 0, 0}}
	tr, va := d.Split(0.1, 1)
	if va.N() != 2 || va.Positives()[0] != 1 || tr.Positives()[0] != 1 {
		t.Errorf("val %v (%d positive), train %v", va.IDs, va.Positives()[0], tr.IDs)
	}
	// One sequence of a class: it stays in training.
	d = &Dataset{F: 1, K: 1, X: [][]float32{{1}, {2}, {3}}, Y: []float32{1, 0, 0}}
	tr, va = d.Split(0.5, 1)
	if tr.Positives()[0] != 1 || va.N() != 1 {
		t.Errorf("train %v, val %v", tr.IDs, va.IDs)
	}
	// frac 0: nothing held out.
	tr, va = d.Split(0, 1)
	if tr.N() != 3 || va.N() != 0 {
		t.Errorf("frac 0: %d + %d", tr.N(), va.N())
	}
	mustPanic(t, "data: Split: fraction 1 outside [0, 1)", func() { d.Split(1, 1) })
	mustPanic(t, "data: Split: fraction NaN outside [0, 1)", func() { d.Split(math.NaN(), 1) })
}

func TestSplitMultiLabel(t *testing.T) {
	d := Synth(SynthOptions{N: 100, MinLen: 1, MaxLen: 2, F: 2, K: 3, Seed: 1, PosRate: 0.5})
	tr, va := d.Split(0.25, 5)
	if va.N() != 25 || tr.N() != 75 {
		t.Errorf("%d + %d, want 75 + 25", tr.N(), va.N())
	}
	for i := range va.N() {
		id, _ := strconv.Atoi(va.ID(i))
		if !slices.Equal(va.Labels(i), d.Labels(id)) {
			t.Fatalf("labels of %d moved", id)
		}
	}
}
