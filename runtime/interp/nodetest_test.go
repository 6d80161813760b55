package interp_test

// ONNX's operator conformance tests (the "node" tests Debian ships in
// libonnx-testdata): every test whose model the importer accepts must
// reproduce ONNX's expected outputs.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime/interp"
)

// ONNX's backend test runner compares with numpy.testing.assert_allclose at
// these default tolerances: |got − want| ≤ atol + rtol·|want|.
const (
	nodeRTol = 1e-3
	nodeATol = 1e-7
)

// nodeTestDir finds ONNX's node tests through dpkg. When they are not
// installed the test is skipped, except in CI, where it fails.
func nodeTestDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dpkg", "-L", "libonnx-testdata").Output()
	if err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasSuffix(line, "/data/node") {
				if fi, err := os.Stat(line); err == nil && fi.IsDir() {
					return line
				}
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

// nodeTestMustPass lists the node tests that exercise what the runtime
// claims to implement; each must import and pass (an "unsupported" import
// fails the test).
var nodeTestMustPass = []string{
	"test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_with_peepholes", "test_lstm_batchwise",
	"test_gru_defaults", "test_gru_with_initial_bias", "test_gru_seq_length", "test_gru_batchwise",
	"test_add", "test_add_bcast", "test_sub", "test_sub_bcast", "test_sub_example", "test_mul", "test_mul_bcast",
	"test_mul_example", "test_div", "test_div_bcast", "test_div_example",
	"test_matmul_2d", "test_matmul_3d", "test_matmul_4d",
	"test_gemm_all_attributes", "test_gemm_alpha", "test_gemm_beta", "test_gemm_default_matrix_bias",
	"test_gemm_default_no_bias", "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias",
	"test_gemm_default_vector_bias", "test_gemm_default_zero_bias", "test_gemm_transposeA", "test_gemm_transposeB",
	"test_sigmoid", "test_sigmoid_example", "test_tanh", "test_tanh_example", "test_relu",
	"test_transpose_default", "test_transpose_all_permutations_0", "test_transpose_all_permutations_5",
	"test_squeeze", "test_squeeze_negative_axes", "test_unsqueeze_axis_0", "test_unsqueeze_negative_axes",
	"test_unsqueeze_three_axes", "test_unsqueeze_unsorted_axes",
	"test_reshape_allowzero_reordered", "test_reshape_negative_dim", "test_reshape_zero_and_negative_dim",
	"test_gather_0", "test_gather_1", "test_gather_2d_indices", "test_gather_negative_indices",
	"test_cast_FLOAT_to_DOUBLE", "test_cast_DOUBLE_to_FLOAT",
	"test_constant", "test_shape", "test_shape_start_1_end_negative_1", "test_shape_clip_start",
	"test_concat_3d_axis_negative_3", "test_identity",
	"test_range_float_type_positive_delta", "test_range_int32_type_negative_delta",
	"test_less", "test_less_bcast", "test_greater", "test_greater_bcast", "test_equal", "test_equal_bcast",
	"test_where_example", "test_where_long_example",
	"test_slice", "test_slice_neg_steps", "test_slice_end_out_of_bounds", "test_slice_default_axes",
	"test_expand_dim_changed", "test_expand_dim_unchanged",
	"test_not_2d", "test_and_bcast4v4d",
}

func TestONNXNodeTests(t *testing.T) {
	root := nodeTestDir(t)
	dirs, err := filepath.Glob(filepath.Join(root, "test_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no node tests under %s", root)
	}
	var passed []string
	unsupported := map[string]string{}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		g, err := export.ReadONNX(filepath.Join(dir, "model.onnx"))
		if errors.Is(err, export.ErrUnsupported) {
			unsupported[name] = err.Error()
			continue
		}
		ok := t.Run(name, func(t *testing.T) {
			if err != nil {
				t.Fatal(err)
			}
			ip, err := interp.New(g)
			if err != nil {
				t.Fatal(err)
			}
			sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
			if len(sets) == 0 {
				t.Fatal("no test_data_set_* directory")
			}
			for _, set := range sets {
				inputs := map[string]*graph.Tensor{}
				for i, f := range nodeTestFiles(t, set, "input") {
					if i >= len(g.Inputs) {
						t.Fatalf("%s: more input files than graph inputs", set)
					}
					x, _, err := export.ReadTensorFile(f)
					if err != nil {
						t.Fatal(err)
					}
					inputs[g.Inputs[i].Name] = x
				}
				got, err := ip.Run(inputs)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(set), err)
				}
				for i, f := range nodeTestFiles(t, set, "output") {
					want, _, err := export.ReadTensorFile(f)
					if err != nil {
						t.Fatal(err)
					}
					out := g.Outputs[i].Name
					if msg := nodeCompare(got[out], want); msg != "" {
						t.Errorf("%s: output %q: %s", filepath.Base(set), out, msg)
					}
				}
			}
		})
		if ok {
			passed = append(passed, name)
		}
	}
	checkSupportedList(t, passed)
	for _, name := range nodeTestMustPass {
		if reason, ok := unsupported[name]; ok {
			t.Errorf("%s must pass but was not imported: %s", name, reason)
		}
		if !slices.Contains(dirs, filepath.Join(root, name)) {
			t.Errorf("%s is missing from the node tests", name)
		}
	}
	t.Logf("node tests: %d passed, %d unsupported of %d", len(passed), len(unsupported), len(dirs))
}

// supportedList is the committed list of node tests that pass, so that an
// operator cannot drop out of support unnoticed. Regenerate it with
// TRNN_UPDATE_NODE_TESTS=1 after adding support for more.
const supportedList = "testdata/node_tests_passing.txt"

func checkSupportedList(t *testing.T, passed []string) {
	t.Helper()
	if os.Getenv("TRNN_UPDATE_NODE_TESTS") != "" {
		if err := os.WriteFile(supportedList, []byte(strings.Join(passed, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(supportedList)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(b))
	if len(want) < 128 {
		t.Errorf("%s lists %d tests, fewer than the 128 supported before", supportedList, len(want))
	}
	for _, name := range want {
		if !slices.Contains(passed, name) {
			t.Errorf("%s is listed as supported in %s but did not pass", name, supportedList)
		}
	}
	if len(passed) > len(want) {
		t.Logf("%d node tests pass beyond %s; regenerate it with TRNN_UPDATE_NODE_TESTS=1", len(passed)-len(want), supportedList)
	}
}

// nodeTestFiles lists prefix_0.pb, prefix_1.pb, ... of a test data set in
// numeric order.
func nodeTestFiles(t *testing.T, set, prefix string) []string {
	files, _ := filepath.Glob(filepath.Join(set, prefix+"_*.pb"))
	num := func(f string) int {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), prefix+"_"), ".pb"))
		if err != nil {
			t.Fatalf("unexpected file %s", f)
		}
		return n
	}
	slices.SortFunc(files, func(a, b string) int { return num(a) - num(b) })
	return files
}

// nodeCompare returns "" when got matches want: same type and shape, equal
// integers and booleans, floats within ONNX's tolerances (NaN equals NaN).
func nodeCompare(got, want *graph.Tensor) string {
	if got == nil {
		return "missing"
	}
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		return fmt.Sprintf("got %v %v, want %v %v", got.DType, graph.FormatShape(got.Shape), want.DType, graph.FormatShape(want.Shape))
	}
	closeTo := func(g, w float64) bool {
		if math.IsNaN(g) || math.IsNaN(w) {
			return math.IsNaN(g) && math.IsNaN(w)
		}
		return math.Abs(g-w) <= nodeATol+nodeRTol*math.Abs(w)
	}
	for i := range want.Len() {
		var ok bool
		var g, w any
		switch want.DType {
		case graph.Float32:
			g, w, ok = got.F32[i], want.F32[i], closeTo(float64(got.F32[i]), float64(want.F32[i]))
		case graph.Float64:
			g, w, ok = got.F64[i], want.F64[i], closeTo(got.F64[i], want.F64[i])
		case graph.Int32:
			g, w, ok = got.I32[i], want.I32[i], got.I32[i] == want.I32[i]
		case graph.Int64:
			g, w, ok = got.I64[i], want.I64[i], got.I64[i] == want.I64[i]
		case graph.Bool:
			g, w, ok = got.B[i], want.B[i], got.B[i] == want.B[i]
		}
		if !ok {
			return fmt.Sprintf("element %d is %v, want %v", i, g, w)
		}
	}
	return ""
}
