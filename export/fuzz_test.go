package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trnn/trnn/graph"
)

// FuzzDecodeONNX: any bytes either decode to a graph that passes Verify or
// are refused with a *ReadError; nothing panics.
func FuzzDecodeONNX(f *testing.F) {
	for _, name := range []string{"lstm_classifier.onnx", "gru_classifier.onnx"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "onnx", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("\x0a\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := DecodeONNX("fuzz.onnx", b)
		if err != nil {
			if _, ok := err.(*ReadError); !ok {
				t.Fatalf("error %T is not a *ReadError: %v", err, err)
			}
			return
		}
		if err := graph.Verify(g); err != nil {
			t.Fatalf("decoded graph fails Verify: %v", err)
		}
	})
}

// FuzzDecodeTensor: any bytes either decode to a well-formed tensor or are
// refused with a *ReadError.
func FuzzDecodeTensor(f *testing.F) {
	dir := f.TempDir()
	for _, tt := range []*graph.Tensor{
		{DType: graph.Float32, Shape: []int{2, 3}, F32: []float32{1, 2, 3, 4, 5, 6}},
		{DType: graph.Int64, Shape: []int{}, I64: []int64{7}},
		{DType: graph.Bool, Shape: []int{2}, B: []bool{true, false}},
	} {
		path := filepath.Join(dir, "t.pb")
		if err := WriteTensorFile(path, "t", tt); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tt, _, err := DecodeTensor("fuzz.pb", b)
		if err != nil {
			if _, ok := err.(*ReadError); !ok {
				t.Fatalf("error %T is not a *ReadError: %v", err, err)
			}
			return
		}
		if err := graph.CheckTensor(tt); err != nil {
			t.Fatalf("decoded tensor is malformed: %v", err)
		}
	})
}
