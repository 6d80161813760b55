package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
)

func runRun(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = run(append([]string{"run"}, args...), strings.NewReader(""), &out, &errb)
	return status, out.String(), errb.String()
}

// runNodeTests finds ONNX's node tests (Debian's libonnx-testdata); it skips
// when they are missing, except in CI.
func runNodeTests(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dpkg", "-L", "libonnx-testdata").Output()
	if err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasSuffix(line, "/data/node") {
				return line
			}
		}
	}
	msg := "ONNX's node tests (Debian package libonnx-testdata) are not installed; run scripts/deps.sh"
	if ortcheck.DepsRequired() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestRunNodeTests runs a few of ONNX's node tests end to end through
// `trnn run` and compares the written .pb files with ONNX's expected
// outputs (rtol 1e-3, atol 1e-7, as ONNX's runner).
func TestRunNodeTests(t *testing.T) {
	root := runNodeTests(t)
	for _, name := range []string{"test_lstm_with_peepholes", "test_lstm_batchwise", "test_gru_seq_length", "test_gemm_all_attributes", "test_slice_neg_steps", "test_where_example"} {
		dir := filepath.Join(root, name)
		set := filepath.Join(dir, "test_data_set_0")
		inputs, _ := filepath.Glob(filepath.Join(set, "input_*.pb"))
		outputs, _ := filepath.Glob(filepath.Join(set, "output_*.pb"))
		slices.Sort(inputs)
		slices.Sort(outputs)
		args := []string{filepath.Join(dir, "model.onnx"), "--output-dir", t.TempDir()}
		for _, f := range inputs {
			args = append(args, "--input", f) // names stored in the files
		}
		status, stdout, stderr := runRun(t, args...)
		if status != 0 || stderr != "" {
			t.Fatalf("%s: status %d, stderr %q", name, status, stderr)
		}
		if lines := strings.Count(stdout, "\n"); lines != len(outputs) {
			t.Fatalf("%s: printed %q for %d outputs", name, stdout, len(outputs))
		}
		for _, f := range outputs {
			want, outName, err := export.ReadTensorFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, gotName, err := export.ReadTensorFile(filepath.Join(args[2], outName+".pb"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if gotName != outName || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
				t.Fatalf("%s: wrote %q %v %v, want %q %v %v", name, gotName, got.DType, got.Shape, outName, want.DType, want.Shape)
			}
			for i := range want.Len() {
				var g, w float64
				switch want.DType {
				case graph.Float32:
					g, w = float64(got.F32[i]), float64(want.F32[i])
				case graph.Int64:
					g, w = float64(got.I64[i]), float64(want.I64[i])
				default:
					t.Fatalf("%s: unexpected dtype %v", name, want.DType)
				}
				if math.Abs(g-w) > 1e-7+1e-3*math.Abs(w) {
					t.Fatalf("%s: output %s element %d = %v, want %v", name, outName, i, g, w)
				}
			}
		}
	}
}

// TestRunErrors: bad command lines and inputs give one line on stderr, a
// nonzero status and nothing written.
func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.onnx")
	x := filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.input.pb")
	lens := filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.seq_lens.pb")
	ints := filepath.Join(dir, "ints.pb")
	if err := export.WriteTensorFile(ints, "input", &graph.Tensor{DType: graph.Int32, Shape: []int{2, 5}, I32: make([]int32, 10)}); err != nil {
		t.Fatal(err)
	}
	anon := filepath.Join(dir, "anon.pb")
	if err := export.WriteTensorFile(anon, "", &graph.Tensor{DType: graph.Int32, Shape: []int{6}, I32: make([]int32, 6)}); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.pb")
	if err := export.WriteTensorFile(short, "seq_lens", &graph.Tensor{DType: graph.Int32, Shape: []int{2}, I32: []int32{1, 1}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{model}, 2, "trnn run: at least one --input NAME=FILE.pb is required (see 'trnn run --help')"},
		{[]string{model, "--input", "=x.pb"}, 2, `trnn run: --input "=x.pb": expected NAME=FILE.pb or FILE.pb`},
		{[]string{filepath.Join(dir, "none.onnx"), "--input", x}, 1, filepath.Join(dir, "none.onnx") + ": cannot open: no such file or directory"},
		{[]string{model, "--input", "input=" + filepath.Join(dir, "none.pb")}, 1, filepath.Join(dir, "none.pb") + ": cannot open: no such file or directory"},
		{[]string{model, "--input", "lengths=" + lens}, 1, lens + `: model ` + model + ` has no input "lengths" (its inputs are input, seq_lens)`},
		{[]string{model, "--input", x}, 1, model + `: missing input "seq_lens" (int32 [N]): give it with --input seq_lens=FILE.pb`},
		{[]string{model, "--input", "input=" + ints, "--input", lens}, 1, ints + `: input "input" is int32 [2, 5], the model expects float32 [N, T, 5]`},
		{[]string{model, "--input", x, "--input", "input=" + x}, 1, x + `: input "input" is already given by ` + x},
		{[]string{model, "--input", anon}, 1, anon + ": the tensor has no name: give it as --input NAME=" + anon},
		{[]string{model, "--input", x, "--input", "seq_lens=" + ints}, 1, ints + `: input "seq_lens" is int32 [2, 5], the model expects int32 [N]`},
		{[]string{model, "--input", x, "--input", "seq_lens=" + short}, 1, model + `: input "seq_lens": dimension 0 (N) is 2, but N is 6 in input "input"`},
	} {
		status, stdout, stderr := runRun(t, append(c.args, "--output-dir", out)...)
		if status != c.status || stdout != "" || stderr != c.want+"\n" {
			t.Errorf("%v: status %d, stdout %q, stderr %q; want status %d and %q", c.args, status, stdout, stderr, c.status, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run created %s", out)
	}
	// A nameless tensor file is fine once named on the command line.
	status, stdout, stderr := runRun(t, model, "--input", x, "--input", "seq_lens="+anon, "-o", out)
	if status != 0 || stderr != "" || stdout != filepath.Join(out, "output.pb")+"\tfloat32 [6, 3]\n" {
		t.Errorf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}

func TestRunOutputFileName(t *testing.T) {
	for name, want := range map[string]string{
		"probs":     "probs.pb",
		"a/b":       "a_b.pb",
		"..":        "output_3.pb",
		"":          "output_3.pb",
		"c:\\d\x01": "c__d_.pb",
	} {
		if got := runOutputFile(name, 3); got != want {
			t.Errorf("%q: %q, want %q", name, got, want)
		}
	}
}
