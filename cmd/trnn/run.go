package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/fileio"
)

func init() { subcommands = append(subcommands, newRunCmd) }

func newRunCmd() *cobra.Command {
	var (
		inputs []string
		outDir string
	)
	c := &cobra.Command{
		Use:   "run MODEL --input NAME=FILE.pb ... [--output-dir DIR]",
		Short: "Run a model on TensorProto files and write each output as a .pb file",
		Long: `Run runs MODEL (any ONNX model trnn can import: docs/onnx-import.md) on
inputs read from serialized TensorProto files, the format of ONNX's test
data, and writes every output to DIR/OUTPUT_NAME.pb in the same format.

Give each model input as --input NAME=FILE.pb; --input FILE.pb uses the name
stored in the file. Every input the model declares is required, and each is
checked against the model's element type and shape before running.`,
		Example: `  trnn run model.onnx --input x=x.pb --input lengths=lengths.pb --output-dir out
  trnn run test_lstm_defaults/model.onnx --input X=input_0.pb --input W=input_1.pb --input R=input_2.pb`,
		Args: exactArgs(1, "one model file"),
		RunE: func(c *cobra.Command, args []string) error {
			return runModel(c, args[0], inputs, outDir)
		},
	}
	c.Flags().StringArrayVar(&inputs, "input", nil, "a model input NAME=FILE.pb (repeatable); FILE.pb alone takes the name stored in the file")
	c.Flags().StringVarP(&outDir, "output-dir", "o", ".", "folder for the outputs, one OUTPUT_NAME.pb per output (created if missing)")
	return c
}

func runModel(c *cobra.Command, model string, inputs []string, outDir string) error {
	if len(inputs) == 0 {
		return usageError{fmt.Errorf("trnn run: at least one --input NAME=FILE.pb is required (see 'trnn run --help')")}
	}
	sess, err := trnn.Load(model)
	if err != nil {
		return err
	}
	declared := sess.Inputs()
	names := make([]string, len(declared))
	for i, v := range declared {
		names[i] = v.Name
	}
	feed := map[string]*graph.Tensor{}
	from := map[string]string{} // input name → file
	for _, arg := range inputs {
		name, file, ok := strings.Cut(arg, "=")
		if !ok {
			name, file = "", arg
		}
		if file == "" || (ok && name == "") {
			return usageError{fmt.Errorf("trnn run: --input %q: expected NAME=FILE.pb or FILE.pb", arg)}
		}
		t, stored, err := export.ReadTensorFile(file)
		if err != nil {
			return err
		}
		if name == "" {
			if stored == "" {
				return fmt.Errorf("%s: the tensor has no name: give it as --input NAME=%s", file, file)
			}
			name = stored
		}
		i := slices.Index(names, name)
		if i < 0 {
			return fmt.Errorf("%s: model %s has no input %q (its inputs are %s)", file, model, name, strings.Join(names, ", "))
		}
		if prev, dup := from[name]; dup {
			return fmt.Errorf("%s: input %q is already given by %s", file, name, prev)
		}
		if want := declared[i]; !runFits(want, t) {
			return fmt.Errorf("%s: input %q is %v %s, the model expects %s", file, name, t.DType, graph.FormatShape(t.Shape), want.TypeString())
		}
		feed[name], from[name] = t, file
	}
	for _, v := range declared {
		if _, ok := feed[v.Name]; !ok {
			return fmt.Errorf("%s: missing input %q (%s): give it with --input %s=FILE.pb", model, v.Name, v.TypeString(), v.Name)
		}
	}
	paths, err := runOutputPaths(sess.Outputs(), outDir, model, from)
	if err != nil {
		return err
	}
	outs, err := sess.Run(feed)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("%s: %v", outDir, fileio.Bare(err))
	}
	for i, v := range sess.Outputs() {
		t, path := outs[v.Name], paths[i]
		if err := export.WriteTensorFile(path, v.Name, t); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "%s\t%v %s\n", path, t.DType, graph.FormatShape(t.Shape))
	}
	return nil
}

// runFits reports whether t has v's element type, rank and fixed dimensions.
func runFits(v graph.Value, t *graph.Tensor) bool {
	if t.DType != v.DType {
		return false
	}
	if v.Shape == nil {
		return true
	}
	if len(v.Shape) != len(t.Shape) {
		return false
	}
	for i, d := range v.Shape {
		if d.Sym == "" && d.Size != t.Shape[i] {
			return false
		}
	}
	return true
}

// runOutputPaths names each output's file in outDir, before anything runs:
// names that collide once sanitised (a/b and a_b) get their output's index
// appended, and no output may be one of the command's input files.
func runOutputPaths(outputs []graph.Value, outDir, model string, from map[string]string) ([]string, error) {
	inputs := map[string]string{"the model": model}
	for name, file := range from {
		inputs["input "+name] = file
	}
	taken := map[string]bool{}
	paths := make([]string, len(outputs))
	for i, v := range outputs {
		file := runOutputFile(v.Name, i)
		for k := i; taken[file]; k += len(outputs) {
			file = strings.TrimSuffix(runOutputFile(v.Name, i), ".pb") + fmt.Sprintf("_%d.pb", k)
		}
		taken[file] = true
		paths[i] = filepath.Join(outDir, file)
		if err := fileio.CheckOutput(paths[i], inputs); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// runOutputFile is NAME.pb with path separators and other characters that
// do not belong in a file name replaced; an unusable name becomes
// output_i.pb.
func runOutputFile(name string, i int) string {
	clean := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, name)
	if clean == "" || clean == "." || clean == ".." {
		clean = fmt.Sprintf("output_%d", i)
	}
	return clean + ".pb"
}
