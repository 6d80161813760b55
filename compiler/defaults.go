package compiler

import "github.com/trnn/trnn/graph"

// Values of the spec's enumerated fields.
const (
	NormalizeNone     = "none"
	NormalizeStandard = "standard"

	MissingRefuse      = "refuse"
	MissingZero        = "zero"
	MissingMean        = "mean"
	MissingForwardFill = "forward_fill"

	OptimizerSGD   = "sgd"
	OptimizerAdam  = "adam"
	OptimizerAdamW = "adamw"
)

// Defaults of the spec's optional fields (docs/spec.md). They are what a
// reader of the target-replication paper expects.
const (
	DefaultNormalize    = NormalizeStandard
	DefaultMissing      = MissingRefuse
	DefaultAlpha        = 0.5
	DefaultAverage      = AverageAllSteps
	DefaultOptimizer    = OptimizerAdam
	DefaultLearningRate = 0.001
	DefaultBatchSize    = 32
	DefaultEpochs       = 20
	DefaultShuffle      = true
	DefaultSeed         = 1
	DefaultSplit        = 0.2
	DefaultMonitor      = "auroc"
	DefaultBootstrap    = 1000 // replicates of the test metrics' intervals
	DefaultOpset        = graph.DefaultOpset
	// DefaultShuffleBuffer is the number of sequences of a streamed data
	// file (Parquet, an episodes folder) held in memory for shuffling.
	DefaultShuffleBuffer = 4096
)

// Defaults of training.lr_schedule.reduce_on_plateau's fields: those of
// Keras' ReduceLROnPlateau, so that a spec reads as a Keras user expects.
const (
	DefaultPlateauFactor   = 0.1
	DefaultPlateauPatience = 10
	DefaultPlateauMinDelta = 1e-4
)

// Limits the validator enforces.
const (
	// MaxUnits, MaxFeatures, MaxLabels and MaxLayers bound a spec's
	// sizes, and MaxParams the parameter count of the compiled model, so
	// that a typo cannot make the compiler allocate gigabytes or build a
	// graph of millions of nodes. No recurrent model trained on the
	// sequences trnn reads is anywhere near 256 layers deep.
	MaxUnits    = graph.MaxUnits
	MaxFeatures = 100_000
	MaxLabels   = 100_000
	MaxLayers   = 256
	MaxParams   = 100_000_000
)

// Limits of the parser: a spec file is small, and deeply nested flow
// collections ([[[[...) only come from corrupt or hostile input.
const (
	maxSpecBytes = 1 << 20
	maxFlowDepth = 32
)

var (
	normalizeNames = []string{NormalizeNone, NormalizeStandard}
	missingNames   = []string{MissingRefuse, MissingZero, MissingMean, MissingForwardFill}
	optimizerNames = []string{OptimizerSGD, OptimizerAdam, OptimizerAdamW}
	averageNames   = []string{AverageAllSteps, AverageExcludeFinal, AverageLinearGain}
	layerKindNames = []string{LayerLSTM, LayerGRU, LayerDropout}
	dataExtensions = []string{".npz", ".csv", ".parquet"}
)

// DefaultSpec returns a spec with every optional field at its default. The
// required fields (inputs.features, layers, outputs.labels) are zero.
func DefaultSpec() *Spec {
	return &Spec{
		Inputs: Inputs{Normalize: DefaultNormalize, Missing: DefaultMissing},
		Objective: Objective{
			Alpha:   DefaultAlpha,
			Average: DefaultAverage,
		},
		Training: Training{
			Optimizer:    DefaultOptimizer,
			LearningRate: DefaultLearningRate,
			BatchSize:    DefaultBatchSize,
			Epochs:       DefaultEpochs,
			Shuffle:      DefaultShuffle,
			Seed:         DefaultSeed,
			Validation: Validation{
				Split:   DefaultSplit,
				Monitor: DefaultMonitor,
			},
			Test: Test{Bootstrap: DefaultBootstrap},
		},
		Export: Export{Opset: DefaultOpset},
	}
}
