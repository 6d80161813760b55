// Package ops holds trnn's kernels: the closed set of operations a graph may
// contain, and for each its forward and backward computation side by side.
//
// Shape legend used across the package's files:
//
//	B  rows (sequences) in a batch
//	T  steps (the longest length in the batch)
//	N  packed steps, Σ lengths (see Packing)
//	I  input width of a layer, F features, H hidden units, K labels
//
// # Layout
//
// Sequence kernels work on packed batches (Packing): the rows of a batch are
// ordered by descending length and stored time-major with the padding
// removed, as cuDNN and PyTorch's PackedSequence do. The rows still active at
// step t are rows 0..Active[t]-1 and occupy packed rows Offset[t]..Offset[t+1]-1,
// so every per-step computation touches only valid steps and each recurrent
// step is one GEMM over the active rows.
//
// # Padded steps
//
// One rule, shared by every kernel and by the ONNX exporter: a step t ≥ len
// is not computed; the recurrent state is carried unchanged past it, its
// output is 0, and it contributes zero loss and zero gradient. A row of length
// 0 yields zeros. This is ONNX Runtime's behaviour for sequence_lens.
//
// # Gate order
//
// LSTM gates are stored in ONNX's order i, o, f, c (LSTMGate*), GRU gates in
// z, r, h (GRUGate*), in the kernels and in exported files alike.
//
// # Errors
//
// The training kernels validate nothing: callers (the compiler, the
// runtime) check shapes once at their boundary. A kernel called with
// inconsistent shapes panics with a message prefixed "ops: ": that is a
// programming error, never a user error. The ONNX operators, whose operands
// come from imported models and which therefore check them and return
// errors, live with the interpreter in runtime/interp.
package ops
