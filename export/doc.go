// Package export is trnn's ONNX boundary. It writes a trained Program as an
// ONNX model (inputs x [batch, time, features] and lengths [batch], output
// probs [batch, labels] from each row's last valid step) and reads ONNX
// models back into a tensor-form graph.Graph that the runtime can run.
//
// Files it cannot read or write are reported as errors naming the file and
// the node or field at fault; it never panics on a user's file.
//
// # Reading
//
// ReadONNX and DecodeONNX accept models of the default ONNX domain, opsets
// MinReadOpset..MaxReadOpset, made of the ONNX operators of graph.Op with the
// attributes docs/onnx-import.md lists. Everything is checked at this
// boundary: op, attributes, input and output counts, that every input is
// defined before it is read, element types, tensor data. Errors are
// *ReadError values printed as one line (model.onnx: node "lstm_1"
// (LSTM): attribute clip is not supported); those caused by valid ONNX that
// trnn does not implement match ErrUnsupported. ReadTensorFile and
// WriteTensorFile read and write single TensorProto files, the format of
// ONNX's test data.
package export
