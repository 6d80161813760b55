// Embed is the smallest program that embeds trnn: it loads a model, scores
// one all-zero sequence of two steps, and prints the model's outputs for
// it (the probability of each label, for trnn's classifiers).
//
// Usage:
//
//	embed MODEL.onnx
//
// It imports only the root package, so it links the ONNX reader and the
// interpreter but not the trainer, the spec language or the data readers.
package main

import (
	"fmt"
	"os"

	"github.com/trnn/trnn"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: embed MODEL.onnx")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	s, err := trnn.Load(path)
	if err != nil {
		return err
	}
	F, err := features(s.Inputs())
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	seq := [][]float32{make([]float32, F), make([]float32, F)}
	probs, err := s.Predict([][][]float32{seq})
	if err != nil {
		return err
	}
	fmt.Printf("%.4f\n", probs[0])
	return nil
}

// features is the number of features per step the model reads: the last
// dimension of its float input [batch, time, features].
func features(inputs []trnn.Value) (int, error) {
	for _, v := range inputs {
		if (v.DType != trnn.Float32 && v.DType != trnn.Float64) || len(v.Shape) != 3 {
			continue
		}
		if d := v.Shape[2]; d.Sym == "" {
			return d.Size, nil
		}
		return 0, fmt.Errorf("input %q: the number of features is not fixed", v.Name)
	}
	return 0, fmt.Errorf("no float input [batch, time, features]")
}
