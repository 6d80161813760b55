package runtime_test

import (
	"bytes"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

// initSpec has the architecture of testdata/onnx/lstm_classifier.onnx.
const initSpec = `
inputs: {features: 5, normalize: standard}
layers: [{lstm: {units: 8}}]
outputs: {labels: 3}
`

func compileInitSpec(t *testing.T, src string) *compiler.Program {
	t.Helper()
	spec, err := compiler.Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestWriteModelTakesTheSpecsDefaults: the spec's export section chooses
// the opset and step_probs when the options leave them zero, and the file
// matches what export writes for ExportModel's model.
func TestWriteModelTakesTheSpecsDefaults(t *testing.T) {
	prog := compileInitSpec(t, initSpec+"export: {opset: 15, step_probs: true}\n")
	m, err := runtime.ExportModel(prog, export.Options{Version: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Opset != 15 || !m.StepProbs || m.Name != prog.Spec.Name || m.Graph != prog.Graph {
		t.Errorf("model %+v", m)
	}
	if m.Meta[export.MetaSpecName] != prog.Spec.Name || m.Meta[export.MetaFeatureNames] != `["f0","f1","f2","f3","f4"]` {
		t.Errorf("metadata %v", m.Meta)
	}
	var a, b bytes.Buffer
	if err := runtime.WriteModel(&a, prog, export.Options{Version: "v"}); err != nil {
		t.Fatal(err)
	}
	if err := export.WriteONNX(&b, m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("WriteModel and export.WriteONNX of ExportModel's model differ")
	}
	if m, _ := runtime.ExportModel(prog, export.Options{Opset: 14}); m.Opset != 14 {
		t.Errorf("the option's opset 14 gave %d", m.Opset)
	}
}
