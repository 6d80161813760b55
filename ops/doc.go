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
// # GEMM
//
// Gemm is chosen once, from the CPU's features (golang.org/x/sys/cpu): a
// blocked pure-Go kernel, AVX2+FMA assembly, and with AVX-512 a kernel for
// the 32-column strips of wide products and the GEMV of one row. The AVX-512
// kernels take each element's FMAs in the AVX2 kernel's order, so a model
// trains to the same bits on either. The one exception is inference: a
// recurrent layer given Rᵀ (LSTMWeights.RT) runs its one-row steps by the
// GEMV, which agrees with the dot products it replaces to rounding.
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
