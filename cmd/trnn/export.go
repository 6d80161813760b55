package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/runtime"
)

func init() { subcommands = append(subcommands, newExportCmd) }

func newExportCmd() *cobra.Command {
	var f exportFlags
	c := &cobra.Command{
		Use:   "export CHECKPOINT -o model.onnx | export CHECKPOINT|MODEL.onnx --triton REPO",
		Short: "Export a checkpoint's model as ONNX, or into a Triton model repository",
		Long: `Export writes the model a training checkpoint holds as an ONNX file: inputs
x [batch, time, features] and lengths [batch], output probs [batch, labels]
from each sequence's last valid step. It exports the best epoch's weights
when the run validated (--last for the latest epoch's).

--stateful writes the streaming model instead: each recurrent layer i also
takes its state h_in_i [batch, H] (and c_in_i for an LSTM; zeros start a
sequence) and gives it back after the chunk as h_out_i (c_out_i), so that a
sequence can be scored chunk by chunk, passing the state along.

--triton REPO writes REPO/NAME/1/model.onnx and REPO/NAME/config.pbtxt for
NVIDIA Triton's onnxruntime backend, from a checkpoint or an ONNX model.
NAME is the spec's name (with _stateful for --stateful) or the model file's
name without .onnx, unless --name says otherwise.`,
		Example: `  trnn export runs/quickstart/checkpoint.trnn -o model.onnx
  trnn export runs/quickstart/checkpoint.trnn -o model14.onnx --opset 14 --step-probs
  trnn export runs/quickstart/checkpoint.trnn -o step.onnx --stateful
  trnn export runs/quickstart/model.onnx --triton models --max-batch 64`,
		Args: exactArgs(1, "one checkpoint (or, with --triton, ONNX model) file"),
		RunE: func(c *cobra.Command, args []string) error { return runExport(c, args[0], f) },
	}
	c.Flags().StringVarP(&f.out, "output", "o", "", "ONNX file to write, its folder created if missing (required unless --triton)")
	c.Flags().IntVar(&f.opset, "opset", 0, fmt.Sprintf("ONNX opset (%d to %d; default: the spec's export.opset)", graph.MinOpset, graph.MaxOpset))
	c.Flags().BoolVar(&f.stepProbs, "step-probs", false, "add the step_probs output (also added when the spec's export.step_probs is true)")
	c.Flags().BoolVar(&f.last, "last", false, "export the latest epoch's weights instead of the best")
	c.Flags().BoolVar(&f.stateful, "stateful", false, "write the streaming model, with each recurrent layer's state as inputs and outputs")
	c.Flags().StringVar(&f.triton, "triton", "", "write into this Triton model repository (a folder) instead of -o")
	c.Flags().StringVar(&f.name, "name", "", "with --triton: the model's name in the repository")
	c.Flags().IntVar(&f.maxBatch, "max-batch", 64, "with --triton: Triton's max_batch_size (0 turns dynamic batching off)")
	return c
}

// exportFlags are export's flags.
type exportFlags struct {
	out, triton, name         string
	opset, maxBatch           int
	stepProbs, last, stateful bool
}

func runExport(c *cobra.Command, arg string, f exportFlags) error {
	if f.out == "" && f.triton == "" {
		return usageError{fmt.Errorf("trnn export: -o FILE is required (or --triton REPO)")}
	}
	if f.out != "" && f.triton != "" {
		return usageError{fmt.Errorf("trnn export: give -o FILE or --triton REPO, not both")}
	}
	if c.Flags().Changed("opset") && (f.opset < graph.MinOpset || f.opset > graph.MaxOpset) {
		return usageError{fmt.Errorf("--opset: must be an integer from %d to %d, got %d", graph.MinOpset, graph.MaxOpset, f.opset)}
	}
	if f.triton == "" && (c.Flags().Changed("name") || c.Flags().Changed("max-batch")) {
		return usageError{fmt.Errorf("trnn export: --name and --max-batch apply to --triton only")}
	}
	if f.triton != "" {
		return exportTriton(c, arg, f)
	}
	if err := outputFile(c.CommandPath(), "-o", f.out, "model.onnx"); err != nil {
		return err
	}
	// A run directory stands for its checkpoint, which -o must not be.
	src, err := checkpointPath(arg)
	if err != nil {
		return err
	}
	if err := fileio.CheckOutput(f.out, map[string]string{"the checkpoint": src}); err != nil {
		return err
	}
	prog, err := exportProgram(arg, f.last)
	if err != nil {
		return err
	}
	opts := export.Options{Version: version, Opset: f.opset, StepProbs: f.stepProbs, Stateful: f.stateful}
	if err := makeParent(f.out); err != nil {
		return err
	}
	if err := runtime.WriteModelFile(f.out, prog, opts); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", f.out)
	return nil
}

// exportProgram reads the program a checkpoint holds (a run directory
// stands for its checkpoint), with its best weights unless last.
func exportProgram(arg string, last bool) (*compiler.Program, error) {
	src, err := checkpointPath(arg)
	if err != nil {
		return nil, err
	}
	ck, err := runtime.ReadCheckpoint(src)
	if err != nil {
		return nil, err
	}
	return ck.Program(src, !last)
}
