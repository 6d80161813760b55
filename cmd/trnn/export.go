package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/runtime"
)

func init() { subcommands = append(subcommands, newExportCmd) }

func newExportCmd() *cobra.Command {
	var (
		out       string
		opset     int
		stepProbs bool
		last      bool
	)
	c := &cobra.Command{
		Use:   "export CHECKPOINT -o model.onnx",
		Short: "Export a checkpoint's model as ONNX",
		Long: `Export writes the model a training checkpoint holds as an ONNX file: inputs
x [batch, time, features] and lengths [batch], output probs [batch, labels]
from each sequence's last valid step. It exports the best epoch's weights
when the run validated (--last for the latest epoch's).`,
		Example: `  trnn export runs/quickstart/checkpoint.trnn -o model.onnx
  trnn export runs/quickstart/checkpoint.trnn -o model14.onnx --opset 14 --step-probs`,
		Args: exactArgs(1, "one checkpoint file"),
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("trnn export: -o FILE is required")}
			}
			if c.Flags().Changed("opset") && (opset < graph.MinOpset || opset > graph.MaxOpset) {
				return usageError{fmt.Errorf("--opset: must be an integer from %d to %d, got %d", graph.MinOpset, graph.MaxOpset, opset)}
			}
			if err := fileio.CheckOutput(out, map[string]string{"the checkpoint": args[0]}); err != nil {
				return err
			}
			ck, err := runtime.ReadCheckpoint(args[0])
			if err != nil {
				return err
			}
			prog, err := ck.Program(args[0], !last)
			if err != nil {
				return err
			}
			opts := export.Options{Version: version, Opset: opset, StepProbs: stepProbs}
			if err := runtime.WriteModelFile(out, prog, opts); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "ONNX file to write (required)")
	c.Flags().IntVar(&opset, "opset", 0, fmt.Sprintf("ONNX opset (%d to %d; default: the spec's export.opset)", graph.MinOpset, graph.MaxOpset))
	c.Flags().BoolVar(&stepProbs, "step-probs", false, "add the step_probs output (also added when the spec's export.step_probs is true)")
	c.Flags().BoolVar(&last, "last", false, "export the latest epoch's weights instead of the best")
	return c
}
