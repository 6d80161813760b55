package export_test

import (
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
)

// TestMetadataLeavesDataPathsOut: the spec written into a model keeps the
// architecture and the CSV column roles but not the training machine's
// file names.
func TestMetadataLeavesDataPathsOut(t *testing.T) {
	src := `
inputs: {features: [hr, sbp]}
layers: [{lstm: {units: 4}}]
outputs: {labels: [died]}
training: {validation: {file: /secret/place/val.csv, patience: 3}}
data:
  train: /secret/place/train.csv
  csv: {id: patient, step: hour}
`
	spec, err := compiler.Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := build(prog, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var meta string
	for _, p := range m.GetMetadataProps() {
		if p.GetKey() == export.MetaSpec {
			meta = p.GetValue()
		}
	}
	if meta == "" || strings.Contains(meta, "secret") || !strings.Contains(meta, "patient") || !strings.Contains(meta, "hour") {
		t.Fatalf("trnn.spec should keep the CSV columns and drop the data paths:\n%s", meta)
	}
	back, err := compiler.Parse("meta", []byte(meta))
	if err != nil {
		t.Fatalf("the written spec does not parse back: %v", err)
	}
	if _, err := compiler.Compile(back); err != nil {
		t.Fatalf("the written spec does not compile: %v", err)
	}
	if spec.Data.Train != "/secret/place/train.csv" {
		t.Fatal("building the model changed the program's spec")
	}
}
