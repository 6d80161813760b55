package loss

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestSequenceWeights(t *testing.T) {
	y := []float32{1, 0, 0, 1, 0}
	dst := make([]float32, 5)
	SequenceWeights(y, 1, 0.5, 4, dst)
	if want := []float32{4, 0.5, 0.5, 4, 0.5}; !slices.Equal(dst, want) {
		t.Errorf("SequenceWeights = %v; want %v", dst, want)
	}
	for _, f := range []func(){
		func() { SequenceWeights(make([]float32, 4), 2, 1, 1, make([]float32, 4)) },
		func() { SequenceWeights(make([]float32, 4), 1, 1, 1, make([]float32, 3)) },
	} {
		func() {
			defer func() {
				if s, _ := recover().(string); !strings.HasPrefix(s, "loss: SequenceWeights: ") {
					t.Errorf("recovered %q; want a loss: SequenceWeights panic", s)
				}
			}()
			f()
		}()
	}
}

// TestClassWeightKeras: class weights multiply each sequence's whole TR
// loss, so the weighted objective equals Σ_i w_i·L_i; the batch loss is
// that over N = 3 sequences (not over Σ w_i).
func TestClassWeightKeras(t *testing.T) {
	// Rows of lengths 2, 2, 1 with y = (1, 0, 1) and class_weight
	// {0: 0.5, 1: 4}: weights (4, 0.5, 4).
	bt := newBatch([]int{2, 2, 1}, 1, []float32{0.25, -1, 2, 0.5, -0.75, 0}, []float32{1, 0, 1})
	w := make([]float32, 3)
	SequenceWeights(bt.y, 1, 0.5, 4, w)
	o := TR{Alpha: 0.5}
	perSeq := make([]float64, 3)
	unweighted := o.forward(bt.p, 1, bt.packed, bt.y, nil, perSeq, nil)
	weighted := o.forward(bt.p, 1, bt.packed, bt.y, w, nil, nil)
	if want := 4*perSeq[0] + 0.5*perSeq[1] + 4*perSeq[2]; !near(weighted, want, 1e-15) {
		t.Errorf("weighted = %.17g; want Σ w_i·L_i = %.17g", weighted, want)
	}
	if !near(unweighted, perSeq[0]+perSeq[1]+perSeq[2], 1e-15) {
		t.Errorf("unweighted = %.17g; want Σ L_i", unweighted)
	}
	// The gradient scales row by row: row 1 (class 0) by 0.5, rows 0 and 2 by 4.
	d1, dw := make([]float32, 5), make([]float32, 5)
	o.backward(bt.p, 1, bt.packed, bt.y, nil, 1.0/3, d1)
	o.backward(bt.p, 1, bt.packed, bt.y, w, 1.0/3, dw)
	for b, l := range bt.lengths {
		for s := 0; s < l; s++ {
			i := bt.p.Index(b, s)
			if !near(float64(dw[i]), float64(w[b])*float64(d1[i]), 1e-6) {
				t.Errorf("row %d step %d: weighted gradient %g; want %g·%g", b, s, dw[i], w[b], d1[i])
			}
		}
	}
}

func TestBalancedWeights(t *testing.T) {
	// n = 4 labels, one positive: w0 = 4/(2·3) = 2/3, w1 = 4/(2·1) = 2.
	w0, w1, err := BalancedWeights([]float32{1, 0, 0, 0})
	if err != nil || w0 != 4.0/6 || w1 != 2 {
		t.Errorf("BalancedWeights = %v, %v, %v; want 2/3, 2, nil", w0, w1, err)
	}
	// Balanced weights make the classes' total weights equal: 3·2/3 = 1·2.
	for _, c := range []struct {
		y   []float32
		err string
	}{
		{nil, "class_weight balanced: no training sequences to count classes in"},
		{[]float32{0, 0, 0}, "class_weight balanced: class 1 is absent from the 3 training sequences (all labels are 0)"},
		{[]float32{1, 1}, "class_weight balanced: class 0 is absent from the 2 training sequences (all labels are 1)"},
		{[]float32{1, 0, 0.5}, "y[2,0]: expected 0 or 1, found 0.5"},
		{[]float32{float32(math.NaN()), 0}, "y[0,0]: expected 0 or 1, found NaN"},
	} {
		_, _, err := BalancedWeights(c.y)
		if err == nil || err.Error() != c.err {
			t.Errorf("BalancedWeights(%v) error = %v; want %s", c.y, err, c.err)
		}
	}
}

func TestCheckLabels(t *testing.T) {
	if err := CheckLabels([]float32{0, 1, 1, 0, 0, 1}, 2, 3); err != nil {
		t.Errorf("valid labels: %v", err)
	}
	err := CheckLabels([]float32{0, 1, 1, 0, 2, 1}, 2, 3)
	if want := "y[1,1]: expected 0 or 1, found 2"; err == nil || err.Error() != want {
		t.Errorf("error = %v; want %s", err, want)
	}
	err = CheckLabels([]float32{0, float32(math.Inf(-1))}, 2, 1)
	if want := "y[1,0]: expected 0 or 1, found -Inf"; err == nil || err.Error() != want {
		t.Errorf("error = %v; want %s", err, want)
	}
}
