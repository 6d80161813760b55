package ops

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/trnn/trnn/graph"
)

// preprocessGolden is testdata/preprocess_golden.json, written by
// testdata/gen_preprocess.py with scikit-learn's StandardScaler,
// SimpleImputer, OneHotEncoder and MissingIndicator.
type preprocessGolden struct {
	Sklearn string
	Cases   []struct {
		Missing               string
		Indicators, Normalize bool
		Categories            []int
		X                     [][][]*float64 // [sequence][step][feature], null = missing
		Mean, Std             []float32
		Y                     [][][]float64 // [sequence][step][channel]
	}
}

// TestPreprocessGolden: the statistics FitPreprocess fits and the
// encoding PreprocessForward computes on a packed batch equal
// scikit-learn's, for every missing mode with and without indicators and
// normalisation, sequences of length 1 included.
func TestPreprocessGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/preprocess_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g preprocessGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for ci, c := range g.Cases {
		p := graph.Preprocess{Missing: c.Missing, Categories: c.Categories, Indicators: c.Indicators, Normalize: c.Normalize}
		F, W := len(c.Categories), p.Width()
		seqs := make([][]float32, len(c.X))
		for i, s := range c.X {
			for _, step := range s {
				for _, v := range step {
					x := float32(math.NaN())
					if v != nil {
						x = float32(*v)
					}
					seqs[i] = append(seqs[i], x)
				}
			}
		}
		mean, std, err := FitPreprocess(seqs, c.Categories)
		if err != nil {
			t.Fatal(err)
		}
		for f := range F {
			if math.Abs(float64(mean[f]-c.Mean[f])) > 1e-5*(1+math.Abs(float64(c.Mean[f]))) || math.Abs(float64(std[f]-c.Std[f])) > 1e-5*float64(c.Std[f]) {
				t.Fatalf("case %d feature %d: mean %v std %v, StandardScaler %v and %v", ci, f, mean[f], std[f], c.Mean[f], c.Std[f])
			}
		}
		// Pack the sequences in order of non-increasing length.
		rows := make([]int, len(seqs))
		for i := range rows {
			rows[i] = i
		}
		SortByLength(rows, func(r int) int { return len(seqs[r]) / F })
		lens := make([]int, len(rows))
		for b, r := range rows {
			lens[b] = len(seqs[r]) / F
		}
		var pk Packing
		pk.Reset(lens)
		x, y := make([]float32, pk.N()*F), make([]float32, pk.N()*W)
		for b, r := range rows {
			for s := range lens[b] {
				copy(x[pk.Index(b, s)*F:(pk.Index(b, s)+1)*F], seqs[r][s*F:(s+1)*F])
			}
		}
		fill := make([]float32, len(rows)*F)
		PreprocessForward(&pk, p, mean, std, x, y, fill)
		worst := 0.0
		for b, r := range rows {
			for s := range lens[b] {
				got := y[pk.Index(b, s)*W : (pk.Index(b, s)+1)*W]
				for w, v := range c.Y[r][s] {
					d := math.Abs(float64(got[w]) - v)
					if !(d <= 1e-5*(1+math.Abs(v))) {
						t.Fatalf("case %d (%s, indicators %v, normalize %v): sequence %d step %d channel %d = %v, scikit-learn %v",
							ci, c.Missing, c.Indicators, c.Normalize, r, s, w, got[w], v)
					}
					worst = max(worst, d)
				}
			}
		}
		t.Logf("case %d (%s, indicators %v, normalize %v): max |Δ| = %.2g", ci, c.Missing, c.Indicators, c.Normalize, worst)
	}
	t.Logf("scikit-learn %s", g.Sklearn)
}

// TestPreprocessForwardAllocatesNothing, and leaves x as it was.
func TestPreprocessForwardAllocatesNothing(t *testing.T) {
	p := graph.Preprocess{Missing: graph.MissingForwardFill, Categories: []int{0, 3}, Indicators: true, Normalize: true}
	var pk Packing
	pk.Reset([]int{3, 2, 1})
	nan := float32(math.NaN())
	x := []float32{1, 0, nan, 2, 5, nan, 3, nan, nan, 1, nan, nan}
	x0 := append([]float32(nil), x...)
	y := make([]float32, pk.N()*p.Width())
	fill := make([]float32, 3*2)
	mean, std := []float32{2, 0}, []float32{4, 1}
	if a := testing.AllocsPerRun(10, func() { PreprocessForward(&pk, p, mean, std, x, y, fill) }); a != 0 {
		t.Fatalf("PreprocessForward allocates %.1f times, want 0", a)
	}
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(x0[i]) {
			t.Fatalf("x[%d] was written", i)
		}
	}
}
