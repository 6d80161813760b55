package data

import (
	"fmt"
	"math"
)

// Shapes: N sequences, len_i ∈ [MinLen, MaxLen] steps, F features, K labels.

// MaxSynthLabels is the most labels Synth generates per sequence: the most
// a spec may declare, so that every synthetic data set can be trained on.
const MaxSynthLabels = 100_000

// SynthOptions configures Synth.
type SynthOptions struct {
	N       int     // sequences, ≥ 1
	MinLen  int     // shortest length, ≥ 1
	MaxLen  int     // longest length, ≥ MinLen
	F       int     // features per step, ≥ 1
	K       int     // labels per sequence, ≥ 1
	Seed    uint64  // the same options and seed give the same data
	PosRate float64 // probability that a label is 1, in (0, 1)

	// The gap story (addGaps): missing values, categorical features and
	// irregular times, as clinical records have them.
	Gaps        float64 // probability that an observation is missing, in [0, 1)
	Categorical bool    // add the SynthCategorical features after the F numeric ones
	Irregular   bool    // step values are times within each step's hour (StepValues)
}

// DefaultSynthOptions are the options of `trnn synth` without flags, which
// also made the quickstart's data (examples/quickstart.npz).
func DefaultSynthOptions() SynthOptions {
	return SynthOptions{N: 1500, MinLen: 60, MaxLen: 150, F: 3, K: 1, Seed: 1, PosRate: 0.3}
}

// Validate checks o's fields; the error names the first bad one the way
// `trnn synth` spells its flags.
func (o SynthOptions) Validate() error {
	switch {
	case o.N < 1:
		return fmt.Errorf("--n: must be at least 1, got %d", o.N)
	case o.MinLen < 1:
		return fmt.Errorf("--min-len: must be at least 1, got %d", o.MinLen)
	case o.MaxLen < o.MinLen:
		return fmt.Errorf("--max-len: must be at least --min-len (%d), got %d", o.MinLen, o.MaxLen)
	case o.F < 1:
		return fmt.Errorf("--features: must be at least 1, got %d", o.F)
	case o.K < 1 || o.K > MaxSynthLabels:
		return fmt.Errorf("--labels: must be from 1 to %d, got %d", MaxSynthLabels, o.K)
	case !(o.PosRate > 0 && o.PosRate < 1):
		return fmt.Errorf("--pos-rate: must be in (0, 1), got %v", o.PosRate)
	case float64(o.N)*float64(o.MaxLen)*float64(o.F) > 1<<28:
		return fmt.Errorf("--n × --max-len × --features: at most 2^28 values, got %d × %d × %d", o.N, o.MaxLen, o.F)
	case float64(o.N)*float64(o.K) > 1<<28:
		return fmt.Errorf("--n × --labels: at most 2^28 labels, got %d × %d", o.N, o.K)
	}
	return o.validateGaps()
}

// The generative story's constants (docs/data.md explains them).
const (
	synthPhi       = 0.5  // AR(1) coefficient of the background noise
	synthAmplitude = 2.0  // height of the early event, in noise standard deviations
	synthWidth     = 3    // steps the event lasts
	synthOnsets    = 4    // the event starts at one of steps 0 .. synthOnsets−1
	synthFlip      = 0.05 // probability that an event's sign disagrees with its label
)

// Synth generates a labelled data set whose evidence sits early in long
// sequences, so that a model trained on the final step alone needs
// gradients through many steps while target replication gives every step a
// direct signal. The story, per sequence i:
//
//  1. its length is uniform in [MinLen, MaxLen];
//  2. each label y_ik is 1 with probability PosRate, independently;
//  3. every feature is background noise, a stationary AR(1) process with
//     coefficient 0.5 and unit variance, the same for both classes;
//  4. each label k adds one early event: for 3 steps starting at a step
//     uniform in {0, 1, 2, 3}, features k mod F and (k+1) mod F (just k
//     mod F when F = 1) are shifted by +2 when y_ik = 1 and by −2 when
//     y_ik = 0, except that with probability 0.05 the sign is flipped.
//
// So every sequence has an event and, past step 6, both classes look
// exactly alike: the label is visible only in the first few steps and must
// be carried to the last. The flips cap the best possible AUROC near 0.95.
//
// Synth panics if o is invalid (see Validate).
func Synth(o SynthOptions) *Dataset {
	if err := o.Validate(); err != nil {
		panic("data: Synth: " + err.Error())
	}
	r := newRNG(o.Seed, synthStream)
	d := &Dataset{F: o.F, K: o.K, X: make([][]float32, o.N), Y: make([]float32, o.N*o.K)}
	lengths := make([]int, o.N)
	total := 0
	for i := range lengths {
		lengths[i] = o.MinLen + r.intn(o.MaxLen-o.MinLen+1)
		total += lengths[i] * o.F
	}
	store := make([]float32, total)
	innov := math.Sqrt(1 - synthPhi*synthPhi)
	prev := make([]float64, o.F) // [F] the AR(1) state
	for i, l := range lengths {
		x := store[: l*o.F : l*o.F]
		store = store[l*o.F:]
		d.X[i] = x
		for f := range prev {
			prev[f] = r.normal()
		}
		for t := range l {
			for f := range o.F {
				if t > 0 {
					prev[f] = synthPhi*prev[f] + innov*r.normal()
				}
				x[t*o.F+f] = float32(prev[f])
			}
		}
		for k := range o.K {
			sign := -1.0
			if r.float() < o.PosRate {
				d.Y[i*o.K+k] = 1
				sign = 1
			}
			if r.float() < synthFlip {
				sign = -sign
			}
			onset := r.intn(synthOnsets)
			feats := []int{k % o.F, (k + 1) % o.F}
			if o.F == 1 {
				feats = feats[:1]
			}
			for t := onset; t < min(onset+synthWidth, l); t++ {
				for _, f := range feats {
					x[t*o.F+f] += float32(sign * synthAmplitude)
				}
			}
		}
	}
	if o.Gaps > 0 || o.Categorical || o.Irregular {
		return addGaps(d, o)
	}
	return d
}

// SynthColumns are the CSV columns of synthetic data with F features and K
// labels: id, step, f0 … f(F−1), then y for one label or y0 … y(K−1). These
// are the names the compiler gives features and labels declared as counts,
// so a spec with counts and no data.csv section reads such a file.
func SynthColumns(F, K int) Columns {
	cols := Columns{ID: "id", Step: "step"}
	for f := range F {
		cols.Features = append(cols.Features, fmt.Sprintf("f%d", f))
	}
	if K == 1 {
		cols.Labels = []string{"y"}
	} else {
		for k := range K {
			cols.Labels = append(cols.Labels, fmt.Sprintf("y%d", k))
		}
	}
	return cols
}
