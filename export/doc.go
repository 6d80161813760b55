// Package export is trnn's ONNX boundary. It writes a trained Program as an
// ONNX model (inputs x [batch, time, features] and lengths [batch], output
// probs [batch, labels] from each row's last valid step) and reads ONNX
// models back into a tensor-form compiler.Graph that the runtime can run.
//
// Files it cannot read or write are reported as errors naming the file and
// the node or field at fault; it never panics on a user's file.
package export
