package compiler

// Spec is a parsed spec file with every default filled in. Its YAML field
// names are documented in docs/spec.md; they are an interface and stay stable.
type Spec struct {
	Name      string
	Inputs    Inputs
	Layers    []Layer
	Outputs   Outputs
	Objective Objective
	Training  Training
	Data      Data
	Export    Export

	// Dir is the folder of the spec file; relative data paths resolve
	// against it. Empty when the spec did not come from a file.
	Dir string

	// categorical is inputs.categorical as the file lists it, by feature
	// name; complete resolves it into Inputs.Categories once the feature
	// names are known, and the validator reports names that are not
	// features.
	categorical []categoricalEntry

	// src remembers where each field was written when the spec was parsed
	// from a file (nil otherwise), for positioned validation errors.
	src *source
}

// Inputs is the spec's inputs section.
type Inputs struct {
	Features     int      // number of features per step
	FeatureNames []string // len Features; generated ("f0", "f1", ...) when the spec gives a count
	Normalize    string   // "none" | "standard"
	// Categories has one entry per feature: the categories of a
	// categorical feature (inputs.categorical), nil for a numeric one; nil
	// altogether when no feature is categorical.
	Categories [][]string
	Missing    string // MissingRefuse | MissingZero | MissingMean | MissingForwardFill
	Indicators bool   // one 0/1 "observed" channel per feature after the encoded features
}

// Layer kinds.
const (
	LayerLSTM    = "lstm"
	LayerGRU     = "gru"
	LayerDropout = "dropout"
)

// Layer is one entry of the layer stack.
type Layer struct {
	Kind  string  // LayerLSTM | LayerGRU | LayerDropout
	Units int     // lstm, gru
	Rate  float64 // dropout
}

// Outputs is the spec's outputs section. Exactly one of labels, classes and
// targets is set: it decides the head (Kind).
type Outputs struct {
	Labels     int      // number of sigmoid labels; 1 = binary; 0 with classes or targets
	LabelNames []string // len Labels; generated ("y" for one label, "y0", "y1", ... otherwise) from a count
	// Classes names the classes of one softmax label (outputs.classes);
	// the data hold the class index 0..C-1.
	Classes []string
	// Targets is the number of regression targets (outputs.targets) and
	// TargetNames their names, generated like label names from a count.
	Targets     int
	TargetNames []string
	// PerStep: the data give labels at steps, NaN (or empty) where a step
	// has none; the loss averages over labelled steps (outputs.per_step).
	PerStep bool
	// NormalizeTargets standardises the targets on the training split; the
	// model undoes it, so its values are in the data's units.
	NormalizeTargets bool
}

// Averaging conventions for the target-replication term.
const (
	AverageAllSteps     = "all_steps"
	AverageExcludeFinal = "exclude_final"
	AverageLinearGain   = "linear_gain"
)

// Objective is the spec's objective section.
type Objective struct {
	Alpha   float64 // target_replication.alpha, in [0, 1]
	Average string  // target_replication.average
	// ClassWeight is set for binary labels: per-class sequence weights.
	ClassWeight *ClassWeight
	// PosWeight, when non-nil, has one positive-term weight per label.
	PosWeight []float64
	// ClassWeights, when non-nil, has one sequence weight per class of
	// outputs.classes, in class order (class_weight as a mapping from class
	// names); "balanced" is ClassWeight.Balanced.
	ClassWeights []float64
}

// ClassWeight is a binary class weighting: explicit weights, or "balanced"
// (weights N / (2·count_c) computed from the training split).
type ClassWeight struct {
	Balanced bool
	W0, W1   float64
}

// Training is the spec's training section.
type Training struct {
	Optimizer    string // "sgd" | "adam" | "adamw"
	LearningRate float64
	Momentum     float64
	WeightDecay  float64
	ClipNorm     float64 // 0 = no clipping
	BatchSize    int
	Epochs       int
	Shuffle      bool
	Seed         uint64
	Validation   Validation
	Test         Test
	// LRSchedule, when non-nil, changes the learning rate during training
	// (training.lr_schedule); nil keeps it constant.
	LRSchedule *LRSchedule
}

// LRSchedule is training.lr_schedule: one schedule kind.
type LRSchedule struct {
	ReduceOnPlateau *ReduceOnPlateau
}

// ReduceOnPlateau is Keras' ReduceLROnPlateau callback on the monitored
// validation metric: after Patience epochs in which the metric did not
// improve by more than MinDelta, the learning rate is multiplied by Factor
// (but not below MinLR), and Cooldown epochs pass before the count starts
// again.
type ReduceOnPlateau struct {
	Factor   float64 // in (0, 1)
	Patience int     // epochs without improvement, ≥ 0
	MinDelta float64 // the smallest change that counts as an improvement, ≥ 0
	Cooldown int     // epochs after a reduction before counting again, ≥ 0
	MinLR    float64 // the learning rate is never reduced below this, ≥ 0
}

// Validation is training.validation.
type Validation struct {
	Split    float64 // fraction held out of the training file; 0 = none (unless File)
	File     string  // a separate validation file; overrides Split
	Monitor  string  // a final-step metric name (MonitorMetrics)
	Patience int     // epochs without improvement before stopping; 0 = off
	// MinDelta is the smallest change of the monitored metric that counts
	// as an improvement for early stopping (Keras' EarlyStopping
	// min_delta); the best epoch, which model.onnx holds, is chosen by any
	// improvement.
	MinDelta float64
}

// Test is training.test: sequences held out of training and of model
// selection, on which the run evaluates model.onnx once, at the end.
type Test struct {
	Split     float64 // fraction of the training file held out; 0 = none (unless File)
	File      string  // a separate test file; replaces Split
	Bootstrap int     // replicates of the test metrics' bootstrap intervals; 0 = none
}

// HasTest reports whether the spec holds out a test set.
func (t Test) HasTest() bool { return t.Split > 0 || t.File != "" }

// MonitorMetrics are the final-step metrics validation may monitor. The
// loss package computes every one of them.
var MonitorMetrics = []string{
	"loss", "auroc", "auprc", "accuracy", "f1", "brier",
	"micro_auroc", "macro_auroc", "micro_auprc", "macro_auprc",
	"micro_f1", "macro_f1", "precision_at_10",
}

// Data is the spec's data section.
type Data struct {
	Train string      // training file, NPZ or CSV, resolved against Dir
	CSV   *CSVColumns // column roles when the data is long-form CSV
	// Bin > 0 makes the step column a time: rows fall into steps of width
	// Bin (data.bin); 0 is off.
	Bin float64
	// ShuffleBuffer is the number of sequences of a streamed file held in
	// memory for shuffling (data.shuffle_buffer); 0 means
	// DefaultShuffleBuffer.
	ShuffleBuffer int
}

// CSVColumns names the columns of a long-form CSV file.
type CSVColumns struct {
	ID       string
	Step     string // optional ordering column
	Features []string
	Labels   []string
}

// Export is the spec's export section.
type Export struct {
	Opset     int
	StepProbs bool
}
