package interp_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime/interp"
)

// FuzzInterpreter feeds arbitrary bytes through the whole import path:
// decode, plan, and run on small zero inputs of the declared shapes. Any
// outcome but a panic is fine: bad models must come back as errors.
func FuzzInterpreter(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "onnx", "*.onnx"))
	// The corpus of exported models, control flow included.
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "corpus", "*", "model.onnx"))
	seeds = append(seeds, corpus...)
	// ONNX's node tests, when installed, reach every operator's kernel.
	if root := nodeTestRoot(); root != "" {
		models, _ := filepath.Glob(filepath.Join(root, "test_*", "model.onnx"))
		seeds = append(seeds, models...)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := export.DecodeONNX("fuzz.onnx", b)
		if err != nil {
			return
		}
		ip, err := interp.New(g)
		if err != nil {
			return
		}
		in := map[string]*graph.Tensor{}
		for _, v := range g.Inputs {
			var shape []int
			for _, d := range v.Shape {
				n := d.Size
				if d.Sym != "" {
					n = 2
				}
				shape = append(shape, n)
			}
			if graph.Size(shape) > 1<<16 {
				return
			}
			in[v.Name] = graph.NewTensor(v.DType, shape...)
		}
		_, _ = ip.Run(in)
	})
}
