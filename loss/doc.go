// Package loss holds trnn's training objectives and their evaluation
// metrics: target replication over packed batches for sigmoid labels (TR),
// softmax classes (SoftmaxTR) and regression targets (SquaredTR), per-step
// labels (PerStep, deep supervision), class weights, and the final-step
// metrics that validation, early stopping and `trnn eval` report (Evaluate,
// EvaluateClasses, EvaluateRegression). docs/objective.md states every
// formula as implemented.
//
// Shape legend used across the package's files:
//
//	B  rows (sequences) of a batch or shard, ordered as in ops.Packing
//	T  steps; T_b is row b's own length
//	N  packed steps, Σ_b T_b
//	K  labels (1 = binary) or regression targets
//	C  classes of a softmax head; W the head's width (K or C)
//	n  samples (sequences) evaluated by the metrics
//
// # The objective
//
// Every objective satisfies Objective. TR.ForwardBackward reads per-step
// logits in ops.Packing's layout ([N, K], padding removed) and returns
// sums over their rows, never means: the runtime splits a mini-batch into
// shards, calls the objective once per
// shard, adds the sums and divides by the number of sequences in the
// mini-batch (Keras semantics for class weights: Σ w_i·L_i / N, with N the
// number of sequences, not Σ w_i). The gradient is accumulated into the
// caller's [N, K] buffer, scaled by the caller's scale (1/N for a mean);
// entries of padded steps do not exist in that layout, so they are never
// touched and the runtime's scatter back to [B, T, K] leaves them 0. The
// objective allocates nothing and does O(N·K) work.
//
// # Metrics
//
// Evaluate computes every final-step metric named by MetricNames from
// final-step probabilities (and, optionally, logits, for an exact log loss).
// A metric that is undefined on the evaluated set (AUROC of a label with one
// class only, a macro average over no defined label...) is reported as
// undefined (Value.OK false), never as a made-up number. EvaluateClasses
// and EvaluateRegression do the same for softmax and identity heads.
// Per-step binary labels need no function of their own: Evaluate takes the
// labelled steps as its samples.
//
// Around the metrics: Reliability and ECE measure calibration,
// ChooseThreshold picks a threshold by a rule (best F1, Youden's J, a
// target sensitivity), Bootstrap gives percentile confidence intervals over
// resampled sequences, and Report is the JSON form `trnn eval --json` and a
// run's test.json share.
//
// # Errors
//
// Functions that read values a user supplied (ParseAverage, the objectives'
// Check methods, CheckLabels, CheckClasses, BalancedWeights, Evaluate,
// EvaluateClasses, EvaluateRegression) return one-line errors naming the
// place (a spec field, y[i,k], probs[i,k]) and the rule broken; callers
// prefix the file name. Inconsistent shapes are programming errors and panic
// with a message prefixed "loss: ".
package loss
