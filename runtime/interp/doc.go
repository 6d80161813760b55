// Package interp runs graphs imported from ONNX (graph.FormTensor) for
// inference, one ONNX operator at a time.
//
// New plans a graph once: every value gets a slot, and every node is
// decoded into a typed kernel (a small struct per operator family holding
// its attributes, read through graph.AttrOr so that the op table's
// defaults apply). Nodes whose inputs are all constant are evaluated there
// (constant folding), nodes whose outputs nobody reads are dropped, and
// each value's last reader is recorded so that its buffer is recycled as
// soon as it is dead. Run then only checks the caller's inputs and runs the
// remaining kernels, with buffers from a per-call state recycled through a
// sync.Pool: an Interpreter is safe for concurrent use. A recurrent node
// keeps its constant weights transposed from planning on, and splits a
// large batch's rows into one part per core, run at once; below a size
// threshold it runs on the calling goroutine. The standard recurrent
// classifier ([Transpose] → forward LSTM or GRU → Y_h → Squeeze, Reshape or
// Gather on axis 0 → Gemm or MatMul → Add [→ Sigmoid or Softmax]) is recognised when the
// plan is made and runs as one fused step (fused.go), with the unfused
// plan's results bit for bit.
//
// # What is checked where
//
// The reader (export.ReadONNX, export.DecodeONNX) is the only validator of
// a graph's static structure: op types, input and output counts, attribute
// kinds and values and their combinations. New trusts it and does not
// check them again; it refuses only what it cannot plan (a value read
// before it is defined, an op with no kernel) and constants whose data does
// not match their shape. What depends on the data (shapes meeting at a
// node, indices, sequence lengths, element types of the caller's tensors)
// is checked by the kernels at run time, and reported as an error naming
// the node, never as a panic.
//
// # The kernels
//
// The operator kernels follow the ONNX operator specification; where it
// leaves a case open (padded steps of LSTM and GRU) ONNX Runtime's CPU
// kernels are the reference. Unlike the trainer's packed kernels in ops,
// which panic on misuse because their callers are trnn's own code, these
// validate their operands and return an error: shapes and values arrive
// with the data, so a mismatch is the user's, not a programming error.
// Messages are one lowercase line stating the rule and what was found; the
// interpreter prefixes the node. Kernels never write into their inputs.
// LSTM and GRU run on ops' packed kernels, float32 GEMMs (Conv's included,
// by im2col) on ops.Gemm and float64 ones on ops.GemmF64.
//
// # Subgraphs
//
// The bodies of If, Loop and Scan run on nested interpreters, planned when
// the enclosing plan reaches their node: the values a body reads from the
// enclosing graphs are then bound, as constants of the body when they are
// constants there (so a loop body's computations on the model's weights are
// folded once) and as extra inputs otherwise. A body runs on a state
// borrowed for the node's run, whose buffers come from and return to the
// enclosing call's free list.
package interp
