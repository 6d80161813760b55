package data

import (
	"fmt"
	"math"
	"strconv"
)

// Shapes: N sequences, len_i steps, F numeric features (SynthOptions.F),
// G = F + the categorical features (2 with Categorical), K labels.

// SynthCategorical are the categorical features Synth adds with
// Categorical: two of the Glasgow coma scale's items, named and spelled as
// clinical records chart them. Only the eye item carries evidence.
var SynthCategorical = []struct {
	Name       string
	Categories []string
}{
	{"gcs_eye", []string{"1 No Response", "2 To pain", "3 To speech", "4 Spontaneously"}},
	{"gcs_verbal", []string{"1 No Response", "2 Incomprehensible sounds", "3 Inappropriate Words", "4 Confused", "5 Oriented"}},
}

// The gap story's constants (docs/data.md explains them).
const (
	gapStepShare  = 0.25 // share of the missing probability spent on whole missing steps
	gapSickRate   = 0.7  // a positive sequence's features go missing at this times the rate
	gcsDrift      = 0.1  // probability that a GCS item moves one category at a step
	gapsMaxMissed = 0.95 // no feature is missing more often than this
)

// gcsFirst are the probabilities of the eye item's first category for a
// positive and a negative sequence: low scores (a patient who opens the
// eyes to pain or not at all) go with the outcome.
var gcsFirst = [2][]float64{{0.1, 0.2, 0.3, 0.4}, {0.4, 0.3, 0.2, 0.1}}

// addGaps turns Synth's complete numeric data d into the data a chart
// holds, per sequence i:
//
//  1. with Categorical, two GCS items follow the numeric features: each
//     starts at a category and moves one category up or down with
//     probability 0.1 at every later step. The eye item's first category
//     depends on the first label (low for positives), the verbal item's is
//     uniform, so only an early eye observation tells the label;
//  2. with Gaps = P, a whole step goes missing with probability P/4 (the
//     first step never does), and each remaining observation of feature f
//     with probability P·w_f, w_f spread evenly over [0.5, 1.5] so that
//     features are charted at different rates (at most 0.95);
//     observations of a positive sequence go missing 0.7 times as often,
//     so that how often a value is charted carries evidence too.
//
// Missing values are NaN; categories are their index as a float.
func addGaps(d *Dataset, o SynthOptions) *Dataset {
	r := newRNG(o.Seed, gapsStream)
	G := o.F
	if o.Categorical {
		G += len(SynthCategorical)
	}
	out := &Dataset{F: G, K: d.K, X: make([][]float32, d.N()), Y: d.Y}
	for i := range d.N() {
		l := d.Len(i)
		x := make([]float32, l*G)
		for t := range l {
			copy(x[t*G:t*G+o.F], d.X[i][t*o.F:(t+1)*o.F])
		}
		pos := d.Y[i*d.K] == 1
		if o.Categorical {
			synthGCS(r, x, l, G, o.F, pos)
		}
		if o.Gaps > 0 {
			punchGaps(r, x, l, G, o.Gaps, pos)
		}
		out.X[i] = x
	}
	if o.Irregular {
		out.StepValues = irregularTimes(r, out)
	}
	return out
}

// synthGCS fills the categorical features of one sequence x [l·G] from
// column F on: a random walk over each item's categories.
func synthGCS(r *rng, x []float32, l, G, F int, pos bool) {
	for c, item := range SynthCategorical {
		n := len(item.Categories)
		var cat int
		if c == 0 {
			p := gcsFirst[0]
			if pos {
				p = gcsFirst[1]
			}
			cat = pick(r, p)
		} else {
			cat = r.intn(n)
		}
		for t := range l {
			if t > 0 && r.float() < gcsDrift {
				cat = min(max(cat+2*r.intn(2)-1, 0), n-1)
			}
			x[t*G+F+c] = float32(cat)
		}
	}
}

// pick draws an index with the probabilities p (summing to 1).
func pick(r *rng, p []float64) int {
	u := r.float()
	for k, pk := range p {
		if u < pk {
			return k
		}
		u -= pk
	}
	return len(p) - 1
}

// punchGaps makes the observations of one sequence x [l·G] missing as
// addGaps says.
func punchGaps(r *rng, x []float32, l, G int, P float64, pos bool) {
	nan := float32(math.NaN())
	scale := 1.0
	if pos {
		scale = gapSickRate
	}
	for t := range l {
		step := x[t*G : (t+1)*G]
		if t > 0 && r.float() < gapStepShare*P*scale {
			for f := range step {
				step[f] = nan
			}
			continue
		}
		for f := range step {
			w := 1.0
			if G > 1 {
				w = 0.5 + float64(f)/float64(G-1)
			}
			if r.float() < min(P*w*scale, gapsMaxMissed) {
				step[f] = nan
			}
		}
	}
}

// irregularTimes gives each step a time in hours within its hour (step t
// at t + u, u uniform in [0, 0.99]), as a chart's times are: binned by the
// hour they fall back on the steps.
func irregularTimes(r *rng, d *Dataset) [][]string {
	times := make([][]string, d.N())
	for i := range times {
		times[i] = make([]string, d.Len(i))
		for t := range times[i] {
			// (100t + k)/100 is the double nearest the decimal, so the
			// shortest form is the decimal itself, in CSV and Parquet alike.
			times[i][t] = strconv.FormatFloat(float64(100*t+r.intn(100))/100, 'g', -1, 64)
		}
	}
	return times
}

// SynthTable names the columns of Synth's data as tables hold them, with
// the categories of its categorical features: SynthColumns' columns, plus
// the GCS items with Categorical. Categories is nil without categorical
// features, else it has one entry per feature, nil for a numeric one.
func SynthTable(o SynthOptions) (Columns, [][]string) {
	cols := SynthColumns(o.F, o.K)
	if !o.Categorical {
		return cols, nil
	}
	cats := make([][]string, o.F, o.F+len(SynthCategorical))
	for _, item := range SynthCategorical {
		cols.Features = append(cols.Features, item.Name)
		cats = append(cats, item.Categories)
	}
	return cols, cats
}

// validateGaps checks the options of the gap story.
func (o SynthOptions) validateGaps() error {
	G := o.F + len(SynthCategorical)
	switch {
	case !(o.Gaps >= 0 && o.Gaps < 1):
		return fmt.Errorf("--gaps: must be in [0, 1), got %v", o.Gaps)
	case o.Categorical && float64(o.N)*float64(o.MaxLen)*float64(G) > 1<<28:
		return fmt.Errorf("--n × --max-len × (--features + 2 categorical): at most 2^28 values, got %d × %d × %d", o.N, o.MaxLen, G)
	}
	return nil
}
