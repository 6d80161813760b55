// Package ortcheck runs ONNX models in ONNX Runtime from Go, so tests can
// compare trnn's exports and runtime with the reference implementation.
//
// ONNX Runtime is loaded at run time (through cgo and
// github.com/yalue/onnxruntime_go) from the shared library that npm's
// onnxruntime-node package carries; scripts/deps.sh (`make deps`) installs
// it under .deps/ort in the module root. The library is found at the path in
// the TRNN_ORT_LIB environment variable, or else at its place under the
// module root. The environment is initialised once per process, logging
// only fatal messages: errors reach the caller as returned values.
//
// Tensors cross the boundary as graph.Tensor (float32, int32, int64, bool and
// float64); inputs are copied, never modified, and outputs are copied out of
// ONNX Runtime's memory.
//
// # Errors
//
// Init and Open return ErrUnavailable (wrapped, with the reason) when the
// library cannot be found or loaded. Require turns that into a skipped test,
// or a failed one when the CI environment variable is "true": in CI a
// missing ONNX Runtime is a broken build, not a reason to skip.
package ortcheck
