// Package export is trnn's ONNX boundary: writing, reading, weights from
// an ONNX model, and single tensor files. It works on graph.Graph values
// alone (of trnn's stages it imports only graph), so reading a model never
// pulls in the spec language or the trainer; runtime.ExportModel turns a
// compiled Program into the Model the writer takes.
//
// Files it cannot read or write are reported as errors naming the file and
// the node or field at fault; it never panics on a user's file.
//
// # Writing
//
// Build, WriteONNX and WriteONNXFile turn a Model (a sequence-form graph
// with its trained parameters, its name, metadata and Options) into an ONNX
// model: inputs x [batch, time, features] and lengths [batch], output probs
// [batch, labels] from each row's last valid step, optionally step_probs.
// The graph must pass graph.Verify, whose invariants (arity, attributes,
// parameter shapes, every value's shape in Graph.Values) the writer relies
// on; it checks only what ONNX adds. Errors start with "export: ".
// A Preprocess node (a spec's inputs.missing, inputs.categorical,
// inputs.indicators) is written as standard operators, forward fill as a
// Scan along time, so the model takes raw x with NaN gaps and category
// indices (preprocess.go).
//
// # Reading
//
// ReadONNX and DecodeONNX accept models of the default ONNX domain, opsets
// graph.MinReadOpset..graph.MaxReadOpset, made of the ONNX operators of
// the op table (graph.Info(op).ONNX) with the attributes docs/onnx-import.md
// lists. Reading is the only validation of an imported graph: op,
// attributes (kinds, opset ranges, values, combinations), input and output
// counts, that every input is defined before it is read, element types,
// tensor data. Whatever runs the graph afterwards trusts these checks.
// Errors are *ReadError values printed as one line (model.onnx: node
// "lstm_1" (LSTM): attribute clip is not supported); those caused by valid
// ONNX that trnn does not implement match ErrUnsupported.
//
// # Streaming and Triton
//
// Options.Stateful writes the stateful model: each recurrent layer's
// state is an input (h_in_i, c_in_i) and an output (h_out_i, c_out_i),
// and with forward fill the fill state too (fill_in, fill_out), so that a
// sequence is scored chunk by chunk; StatePair pairs the names.
// WithState rebuilds a model trnn wrote into that form, as WithStepProbs
// does for step_probs, and StreamGraph trims it to what a stream of one
// row, never empty, reads. WriteTriton and TritonConfig write a model into a Triton
// model repository with the config.pbtxt of the onnxruntime backend.
//
// # Weights and tensors
//
// InitParams copies an imported model's weights into a compiled graph's
// parameters (trnn train --init). WithStepProbs rebuilds a model trnn
// wrote without step_probs into one with it, after checking that writing
// the rebuild back gives the model itself. ReadTensorFile and
// WriteTensorFile read and write single TensorProto files, the format of
// ONNX's test data; the writer's initializers and tensor files share one
// encoder.
package export
