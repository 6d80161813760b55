// Package onnxpb holds the Go types of the ONNX protobuf messages trnn reads
// and writes, generated from onnx.proto by protoc-gen-go. Regenerate with
// `go generate ./export/onnxpb` (needs protoc and protoc-gen-go on PATH).
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative onnx.proto
