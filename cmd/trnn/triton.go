package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/runtime"
)

// exportTriton writes trnn export's --triton repository entry: the model an
// ONNX file holds as it is, or the one a checkpoint holds, exported with
// the flags.
func exportTriton(c *cobra.Command, arg string, f exportFlags) error {
	if f.maxBatch < 0 {
		return usageError{fmt.Errorf("--max-batch: must be 0 or more, got %d", f.maxBatch)}
	}
	m := export.TritonModel{Name: f.name, File: arg, MaxBatchSize: f.maxBatch}
	if sniff(arg) == kindONNX {
		for _, flag := range []string{"opset", "step-probs", "last", "stateful"} {
			if c.Flags().Changed(flag) {
				return usageError{fmt.Errorf("trnn export: --%s applies to a checkpoint; %s is an ONNX model, written into the repository as it is", flag, arg)}
			}
		}
		b, err := fileio.ReadFile(arg)
		if err != nil {
			return fmt.Errorf("%s: %w", arg, err)
		}
		m.ONNX = b
		if m.Name == "" {
			m.Name = strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg))
		}
	} else {
		prog, err := exportProgram(arg, f.last)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		opts := export.Options{Version: version, Opset: f.opset, StepProbs: f.stepProbs, Stateful: f.stateful}
		if err := runtime.WriteModel(&buf, prog, opts); err != nil {
			return err
		}
		m.ONNX = buf.Bytes()
		if m.Name == "" {
			m.Name = prog.Spec.Name
			if f.stateful {
				m.Name += "_stateful"
			}
		}
	}
	if err := export.WriteTriton(f.triton, m); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s and %s\n", filepath.Join(f.triton, m.Name, "1", "model.onnx"), filepath.Join(f.triton, m.Name, "config.pbtxt"))
	return nil
}
