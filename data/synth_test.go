package data

import (
	"math"
	"slices"
	"sort"
	"testing"
)

func TestSynthDeterministic(t *testing.T) {
	o := SynthOptions{N: 300, MinLen: 5, MaxLen: 40, F: 3, K: 2, Seed: 11, PosRate: 0.3}
	a, b := Synth(o), Synth(o)
	if !a.Equal(b) {
		t.Fatal("the same options gave different data")
	}
	o.Seed++
	if c := Synth(o); c.Equal(a) || slices.Equal(c.X[0], a.X[0]) {
		t.Fatal("seeds 11 and 12 gave the same data")
	}
	a.check("synth")
}

func TestSynthShape(t *testing.T) {
	o := SynthOptions{N: 4000, MinLen: 3, MaxLen: 9, F: 1, K: 1, Seed: 2, PosRate: 0.25}
	d := Synth(o)
	if d.N() != o.N || d.F != 1 || d.K != 1 || d.IDs != nil || d.Source != "" {
		t.Fatalf("N %d F %d K %d", d.N(), d.F, d.K)
	}
	seen := map[int]bool{}
	for i := range d.N() {
		l := d.Len(i)
		if l < o.MinLen || l > o.MaxLen {
			t.Fatalf("sequence %d has %d steps", i, l)
		}
		seen[l] = true
		for _, v := range d.X[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("sequence %d: %v", i, v)
			}
		}
	}
	if len(seen) != o.MaxLen-o.MinLen+1 {
		t.Errorf("lengths seen: %v", seen)
	}
	// The positive rate is a binomial proportion: within 4 standard errors.
	rate := float64(d.Positives()[0]) / float64(d.N())
	if se := math.Sqrt(0.25 * 0.75 / float64(d.N())); math.Abs(rate-0.25) > 4*se {
		t.Errorf("positive rate %.3f, want 0.25", rate)
	}
}

// TestSynthEvidenceIsEarly checks the generative story: the sum of the two
// evidence features over the first 7 steps separates the classes about as
// well as the 5% sign flips allow, while the same sum over the later steps,
// or any window of the other feature, carries nothing.
func TestSynthEvidenceIsEarly(t *testing.T) {
	d := Synth(SynthOptions{N: 3000, MinLen: 20, MaxLen: 60, F: 3, K: 1, Seed: 5, PosRate: 0.3})
	score := func(from, to int, feats ...int) []float64 {
		s := make([]float64, d.N())
		for i := range d.N() {
			for t := from; t < min(to, d.Len(i)); t++ {
				for _, f := range feats {
					s[i] += float64(d.X[i][t*d.F+f])
				}
			}
		}
		return s
	}
	early := auroc(score(0, 7, 0, 1), d.Y)
	late := auroc(score(7, 60, 0, 1), d.Y)
	other := auroc(score(0, 7, 2), d.Y)
	t.Logf("AUROC of early evidence %.3f, late %.3f, other feature %.3f", early, late, other)
	if early < 0.9 || early > 0.97 {
		t.Errorf("early evidence AUROC %.3f, want about 0.95", early)
	}
	// Under no signal the AUROC of 3000 sequences has a standard error of
	// about 0.011: 0.05 is more than 4 of them.
	if math.Abs(late-0.5) > 0.05 || math.Abs(other-0.5) > 0.05 {
		t.Errorf("late AUROC %.3f, other feature %.3f: want about 0.5", late, other)
	}
}

func TestSynthMultiLabel(t *testing.T) {
	d := Synth(SynthOptions{N: 3000, MinLen: 10, MaxLen: 10, F: 4, K: 3, Seed: 8, PosRate: 0.5})
	for k := range 3 {
		y := make([]float32, d.N())
		s := make([]float64, d.N())
		for i := range d.N() {
			y[i] = d.Labels(i)[k]
			for t := range 7 {
				s[i] += float64(d.X[i][t*d.F+k]) // label k's first evidence feature
			}
		}
		if a := auroc(s, y); a < 0.75 {
			t.Errorf("label %d: AUROC of feature %d over the first steps %.3f", k, k, a)
		}
	}
}

// auroc is the probability that a random positive scores above a random
// negative (ties count one half), by ranks.
func auroc(score []float64, y []float32) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var rankSum, pos float64
	for r := 0; r < len(idx); {
		e := r
		for e < len(idx) && score[idx[e]] == score[idx[r]] {
			e++
		}
		for _, i := range idx[r:e] {
			if y[i] == 1 {
				rankSum += float64(r+e+1) / 2
				pos++
			}
		}
		r = e
	}
	neg := float64(len(y)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestSynthValidate(t *testing.T) {
	good := DefaultSynthOptions()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod  func(*SynthOptions)
		want string
	}{
		{func(o *SynthOptions) { o.N = 0 }, "--n: must be at least 1, got 0"},
		{func(o *SynthOptions) { o.MinLen = 0 }, "--min-len: must be at least 1, got 0"},
		{func(o *SynthOptions) { o.MaxLen = 59 }, "--max-len: must be at least --min-len (60), got 59"},
		{func(o *SynthOptions) { o.F = -1 }, "--features: must be at least 1, got -1"},
		{func(o *SynthOptions) { o.K = 0 }, "--labels: must be from 1 to 100000, got 0"},
		{func(o *SynthOptions) { o.K = 100001 }, "--labels: must be from 1 to 100000, got 100001"},
		{func(o *SynthOptions) { o.N, o.MinLen, o.MaxLen, o.F, o.K = 1<<20, 1, 1, 1, 1<<12 }, "--n × --labels: at most 2^28 labels, got 1048576 × 4096"},
		{func(o *SynthOptions) { o.PosRate = 1 }, "--pos-rate: must be in (0, 1), got 1"},
		{func(o *SynthOptions) { o.PosRate = math.NaN() }, "--pos-rate: must be in (0, 1), got NaN"},
		{func(o *SynthOptions) { o.N = 1 << 30 }, "--n × --max-len × --features: at most 2^28 values, got 1073741824 × 150 × 3"},
	} {
		o := good
		tc.mod(&o)
		err := o.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
	o := good
	o.K = 0
	mustPanic(t, "data: Synth: --labels: must be from 1 to 100000, got 0", func() { Synth(o) })
}
