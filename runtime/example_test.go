package runtime_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/runtime"
)

// A Go program trains a model from a spec and gets the run directory the
// command line makes: model.onnx, the checkpoint, metrics.csv and
// curves.png.
func ExampleTrain() {
	spec, err := compiler.Parse("tiny.yaml", []byte(`
name: tiny
inputs: {features: 3, normalize: standard}
layers: [{lstm: {units: 4}}]
outputs: {labels: 1}
training: {batch_size: 64, epochs: 2, seed: 1, validation: {split: 0.2}}
`))
	if err != nil {
		log.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "trnn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	res, err := runtime.Train(context.Background(), runtime.Config{
		Program: prog,
		Data:    filepath.Join("..", "examples", "quickstart.npz"),
		Out:     filepath.Join(dir, "run"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d epochs, %d records\n", res.Epochs, len(res.History))
	for _, name := range []string{runtime.ModelFile, runtime.CheckpointFile, runtime.MetricsFile, runtime.CurvesFile} {
		_, err := os.Stat(filepath.Join(res.Dir, name))
		fmt.Println(name, err == nil)
	}
	// Output:
	// 2 epochs, 2 records
	// model.onnx true
	// checkpoint.trnn true
	// metrics.csv true
	// curves.png true
}
