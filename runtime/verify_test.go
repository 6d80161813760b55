package runtime

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnn/trnn/export"
)

// TestVerifyExport: the model file written for a program passes; the same
// file checked against a program whose head was changed afterwards is
// refused, naming the file.
func TestVerifyExport(t *testing.T) {
	prog := compileSpec(t, testSpec, nil)
	d := synth(40, 2, 3)
	path := filepath.Join(t.TempDir(), ModelFile)
	if err := WriteModelFile(path, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := verifyExport(path, prog, d); err != nil {
		t.Fatalf("a faithful export was refused: %v", err)
	}
	b := prog.Graph.Param("head.b").Tensor.F32
	b[1] += 0.5
	err := verifyExport(path, prog, d)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "label 1") {
		t.Fatalf("an export that disagrees with the network passed: %v", err)
	}
}
