// Command ortparity checks that trnn's Go runtime and ONNX Runtime give the
// same answers for an ONNX model: it runs both on the same random inputs
// and prints, for every output, the largest absolute difference.
//
//	ortparity [-batch 4] [-steps 7] [-seed 1] [-tol 1e-5] MODEL.onnx
//
// Inputs get their declared types and shapes, with symbolic dimensions set
// by -batch and -steps: floats are drawn from N(0, 1); an integer input
// named lengths (or shaped [batch]) holds sequence lengths in 1..steps;
// other integers are 0. It exits 0 when every output agrees within -tol, 1
// when one does not, and 0 with a "skipped" line when ONNX Runtime is not
// installed (run `make deps`, or set TRNN_ORT_LIB), unless CI or
// TRNN_REQUIRE_DEPS is set, when that is a failure.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/internal/ortcheck"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type options struct {
	batch, steps int
	seed         uint64
	tol          float64
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ortparity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.batch, "batch", 4, "rows for a symbolic batch dimension")
	fs.IntVar(&o.steps, "steps", 7, "steps for a symbolic time dimension")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random inputs")
	fs.Float64Var(&o.tol, "tol", 1e-5, "largest absolute difference allowed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ortparity [flags] MODEL.onnx\n\nRuns MODEL in trnn and in ONNX Runtime on the same random inputs and\ncompares every output.\n\nexample: ortparity -batch 8 -steps 20 runs/quickstart/model.onnx\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || o.batch < 1 || o.steps < 1 {
		fs.Usage()
		return 2
	}
	g := &gate{out: stdout}
	if ortcheck.Require(g); g.stopped {
		return g.status
	}
	if err := compare(fs.Arg(0), o, stdout); err != nil {
		fmt.Fprintf(stderr, "ortparity: %v\n", err)
		return 1
	}
	return 0
}

// gate reports a missing ONNX Runtime the way a test would.
type gate struct {
	out     io.Writer
	stopped bool
	status  int
}

func (g *gate) Helper() {}
func (g *gate) Skipf(format string, args ...any) {
	fmt.Fprintf(g.out, "skipped: "+format+"\n", args...)
	g.stopped = true
}
func (g *gate) Fatalf(format string, args ...any) {
	fmt.Fprintf(g.out, "ortparity: "+format+"\n", args...)
	g.stopped, g.status = true, 1
}

// compare runs the model in both runtimes and prints each output's
// difference; the error names the outputs over the tolerance.
func compare(path string, o options, w io.Writer) error {
	model, err := fileio.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	s, err := trnn.LoadBytes(path, model)
	if err != nil {
		return err
	}
	inputs := randomInputs(s.Inputs(), o)
	var outNames []string
	for _, v := range s.Outputs() {
		outNames = append(outNames, v.Name)
	}
	ours, err := s.Run(inputs)
	if err != nil {
		return err
	}
	theirs, err := ortcheck.Run(model, inputs, outNames)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	_, producer, err := ortcheck.Metadata(model)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	fmt.Fprintf(w, "%s (made by %q): ONNX Runtime %s, batch %d, steps %d, seed %d\n",
		path, producer, ortcheck.Version(), o.batch, o.steps, o.seed)
	var bad []string
	for _, name := range outNames {
		d := maxDiff(ours[name], theirs[name])
		fmt.Fprintf(w, "  %-12s max |trnn - ort| = %.3g\n", name, d)
		if !(d <= o.tol) {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: outputs %v differ by more than %g", path, bad, o.tol)
	}
	return nil
}

func randomInputs(vals []trnn.Value, o options) map[string]*trnn.Tensor {
	rng := rand.New(rand.NewPCG(o.seed, 0x6f7274))
	out := map[string]*trnn.Tensor{}
	for _, v := range vals {
		shape := make([]int, len(v.Shape))
		for i, d := range v.Shape {
			switch {
			case d.Sym == "" && d.Size > 0:
				shape[i] = d.Size
			case i == 0:
				shape[i] = o.batch
			default:
				shape[i] = o.steps
			}
		}
		out[v.Name] = randomTensor(v, shape, o.steps, rng)
	}
	return out
}

func randomTensor(v trnn.Value, shape []int, steps int, rng *rand.Rand) *trnn.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	t := &trnn.Tensor{DType: v.DType, Shape: shape}
	lengths := v.Name == "lengths" || len(shape) == 1
	switch v.DType {
	case trnn.Float32:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = float32(rng.NormFloat64())
		}
	case trnn.Float64:
		t.F64 = make([]float64, n)
		for i := range t.F64 {
			t.F64[i] = rng.NormFloat64()
		}
	case trnn.Int32:
		t.I32 = make([]int32, n)
		for i := range t.I32 {
			if lengths {
				t.I32[i] = int32(1 + rng.IntN(steps))
			}
		}
	case trnn.Int64:
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			if lengths {
				t.I64[i] = int64(1 + rng.IntN(steps))
			}
		}
	case trnn.Bool:
		t.B = make([]bool, n)
	}
	return t
}

// maxDiff is the largest absolute difference of two float tensors (NaN when
// their shapes or types differ, or when one holds a NaN the other does not).
func maxDiff(a, b *trnn.Tensor) float64 {
	if a == nil || b == nil || a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) {
		return math.NaN()
	}
	var d float64
	for i := range a.F32 {
		x, y := float64(a.F32[i]), float64(b.F32[i])
		if math.IsNaN(x) != math.IsNaN(y) {
			return math.NaN()
		}
		d = math.Max(d, math.Abs(x-y))
	}
	for i := range a.F64 {
		d = math.Max(d, math.Abs(a.F64[i]-b.F64[i]))
	}
	return d
}
