package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Shapes: N sequences, len_i steps, F features.

// Synthetic tasks shaped like the mimic3-benchmarks tasks other than
// in-hospital mortality (which Synth is): labels per step, classes and
// regression targets. In each, the evidence sits in the first few steps,
// as in Synth: an event of 3 steps starting at a step in {0, 1, 2, 3} in
// feature 0 (and feature 1 when F > 1), over the same AR(1) noise.
const (
	TaskDecompensation = "decompensation" // per step: 1 in the last DecompensationHorizon steps of a sequence that deteriorates
	TaskLOS            = "los"            // per step: the remaining steps in LOSBuckets buckets (classes)
	TaskLOSRegression  = "los-regression" // per step: the remaining steps (a target)
	TaskClasses        = "classes"        // per sequence: one of TaskClassCount classes
	TaskRegression     = "regression"     // per sequence: one real target
)

// SynthTasks are the tasks SynthTask makes, in the order `trnn synth
// --task` lists them.
var SynthTasks = []string{TaskDecompensation, TaskLOS, TaskLOSRegression, TaskClasses, TaskRegression}

// Constants of the tasks' stories.
const (
	// DecompensationHorizon: a deteriorating sequence is labelled 1 at
	// its last 24 steps (mimic3-benchmarks: death within 24 hours).
	DecompensationHorizon = 24
	// LOSBuckets is the number of remaining-time buckets of TaskLOS.
	LOSBuckets = 10
	// TaskClassCount is the number of classes of TaskClasses.
	TaskClassCount = 4
	// taskUnlabelled is how many first steps of a per-step task carry no
	// label (mimic3-benchmarks starts labelling after 4 hours).
	taskUnlabelled = 4
)

// SynthTask generates the data set of a task with o's sizes and seed
// (o.K and, but for decompensation, o.PosRate are not used). The labels
// are, per sequence i of length L with early event amplitude a:
//
//   - decompensation: the sequence deteriorates with probability PosRate,
//     a = +2 if it does and −2 if not; per step, 1 at the last 24 steps of
//     a deteriorating sequence and 0 elsewhere;
//   - los, los-regression: a = −2 + 4·(L − MinLen)/(MaxLen − MinLen)
//     encodes the length, which the model cannot otherwise know before
//     the end; per step t, the remaining steps r = L − 1 − t, as a bucket
//     min(9, ⌊10·r / MaxLen⌋) (los) or as a number (los-regression);
//   - classes: a class c uniform in 0..3 and a = −3 + 2c;
//   - regression: a target v uniform in [0, 10) and a = −2 + 0.4·v.
//
// Per-step labels start at step 4 (the first four steps are unlabelled,
// NaN). The data set's Target is the task's (SynthTaskTarget). The error
// names the flag at fault, as Validate does.
func SynthTask(task string, o SynthOptions) (*Dataset, error) {
	if !slices.Contains(SynthTasks, task) {
		return nil, fmt.Errorf("--task: expected one of %v, got %q", SynthTasks, task)
	}
	o.K = 1
	if err := o.Validate(); err != nil {
		return nil, err
	}
	r := newRNG(o.Seed, synthStream+1)
	d := &Dataset{F: o.F, K: 1, X: make([][]float32, o.N), Target: SynthTaskTarget(task)}
	perStep := SynthTaskPerStep(task)
	if perStep {
		d.YStep = make([][]float32, o.N)
	} else {
		d.Y = make([]float32, o.N)
	}
	for i := range d.X {
		L := o.MinLen + r.intn(o.MaxLen-o.MinLen+1)
		d.X[i] = synthNoise(r, L, o.F)
		var a float64
		switch task {
		case TaskDecompensation:
			bad := r.float() < o.PosRate
			a = -synthAmplitude
			if bad {
				a = synthAmplitude
			}
			d.YStep[i] = taskStepLabels(L, func(t int) float32 {
				if bad && t >= L-DecompensationHorizon {
					return 1
				}
				return 0
			})
		case TaskLOS, TaskLOSRegression:
			frac := 0.5
			if o.MaxLen > o.MinLen {
				frac = float64(L-o.MinLen) / float64(o.MaxLen-o.MinLen)
			}
			a = -synthAmplitude + 2*synthAmplitude*frac
			d.YStep[i] = taskStepLabels(L, func(t int) float32 {
				rem := L - 1 - t
				if task == TaskLOSRegression {
					return float32(rem)
				}
				return float32(min(LOSBuckets-1, LOSBuckets*rem/o.MaxLen))
			})
		case TaskClasses:
			c := r.intn(TaskClassCount)
			a = -3 + 2*float64(c)
			d.Y[i] = float32(c)
		case TaskRegression:
			v := 10 * r.float()
			a = -synthAmplitude + 0.4*v
			d.Y[i] = float32(v)
		}
		synthEvent(r, d.X[i], o.F, a)
	}
	return d, nil
}

// SynthTaskPerStep reports whether a task's labels are per step.
func SynthTaskPerStep(task string) bool {
	return task == TaskDecompensation || task == TaskLOS || task == TaskLOSRegression
}

// SynthTaskTarget is what a task's labels hold.
func SynthTaskTarget(task string) LabelKind {
	switch task {
	case TaskLOS, TaskClasses:
		return LabelClass
	case TaskLOSRegression, TaskRegression:
		return LabelValue
	}
	return LabelBinary
}

// SynthTaskClasses names the classes of a task whose labels are classes,
// as the files trnn synth writes hold them: the buckets b0 … b9 of los
// (as examples/mimic3-los.yaml names them) and c0 … c3 of classes; nil
// for the other tasks.
func SynthTaskClasses(task string) []string {
	n, prefix := 0, ""
	switch task {
	case TaskLOS:
		n, prefix = LOSBuckets, "b"
	case TaskClasses:
		n, prefix = TaskClassCount, "c"
	}
	var names []string
	for c := range n {
		names = append(names, prefix+strconv.Itoa(c))
	}
	return names
}

// synthNoise is L steps of F features of stationary AR(1) noise with unit
// variance, as Synth draws it.
func synthNoise(r *rng, L, F int) []float32 {
	x := make([]float32, L*F)
	innov := math.Sqrt(1 - synthPhi*synthPhi)
	for f := 0; f < F; f++ {
		v := r.normal()
		for t := 0; t < L; t++ {
			if t > 0 {
				v = synthPhi*v + innov*r.normal()
			}
			x[t*F+f] = float32(v)
		}
	}
	return x
}

// synthEvent adds amplitude a to features 0 and 1 (0 alone when F = 1) for
// synthWidth steps from an onset uniform in 0..synthOnsets−1.
func synthEvent(r *rng, x []float32, F int, a float64) {
	L := len(x) / F
	onset := r.intn(synthOnsets)
	for t := onset; t < min(onset+synthWidth, L); t++ {
		for f := 0; f < min(F, 2); f++ {
			x[t*F+f] += float32(a)
		}
	}
}

// taskStepLabels is [L] labels from label(t), NaN for the first
// taskUnlabelled steps.
func taskStepLabels(L int, label func(t int) float32) []float32 {
	y := make([]float32, L)
	for t := range y {
		if t < taskUnlabelled {
			y[t] = float32(math.NaN())
		} else {
			y[t] = label(t)
		}
	}
	return y
}
