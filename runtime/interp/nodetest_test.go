package interp_test

// ONNX's operator conformance tests (the "node" tests Debian ships in
// libonnx-testdata): every test whose model the importer accepts must
// reproduce ONNX's expected outputs.

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
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

// nodeTestRoot finds ONNX's node tests through dpkg, or returns "" when
// they are not installed.
func nodeTestRoot() string {
	out, err := exec.Command("dpkg", "-L", "libonnx-testdata").Output()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasSuffix(line, "/data/node") {
			if fi, err := os.Stat(line); err == nil && fi.IsDir() {
				return line
			}
		}
	}
	return ""
}

// nodeTestDir returns nodeTestRoot. When the tests are not installed the
// test is skipped, except in CI, where it fails.
func nodeTestDir(t *testing.T) string {
	t.Helper()
	if root := nodeTestRoot(); root != "" {
		return root
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
	// The operators of exported sequence models.
	"test_softmax_axis_0", "test_logsoftmax_axis_1", "test_hardmax_axis_0", "test_layer_normalization_4d_axis1",
	"test_batchnorm_example", "test_erf", "test_pow", "test_sqrt", "test_exp", "test_log", "test_neg", "test_abs",
	"test_reciprocal", "test_reduce_mean_keepdims_example", "test_reduce_sum_keepdims_example",
	"test_reduce_max_default_axes_keepdim_example", "test_reduce_l2_keep_dims_example",
	"test_reduce_log_sum_exp_keepdims_example", "test_split_variable_parts_2d", "test_split_equal_parts_1d",
	"test_tile", "test_edge_pad", "test_reflect_pad", "test_constant_pad", "test_clip", "test_clip_default_inbounds",
	"test_gather_elements_0", "test_scatter_elements_with_duplicate_indices", "test_cumsum_1d_reverse_exclusive",
	"test_argmax_keepdims_example_select_last_index", "test_argmin_no_keepdims_example",
	"test_onehot_negative_indices", "test_constantofshape_float_ones", "test_top_k", "test_tril_neg",
	"test_dropout_default_mask", "test_flatten_axis0", "test_size", "test_greater_equal", "test_less_equal",
	"test_or_bcast3v2d", "test_xor4d", "test_max_example", "test_min_example", "test_mean_example", "test_sum_example",
	"test_mod_mixed_sign_int32", "test_softplus", "test_leakyrelu", "test_elu", "test_hardsigmoid", "test_sign",
	"test_floor", "test_ceil", "test_round", "test_isnan", "test_isinf", "test_nonzero_example",
	"test_castlike_FLOAT_to_DOUBLE", "test_prelu_broadcast", "test_selu",
	// Convolutional front ends and control flow.
	"test_basic_conv_with_padding", "test_conv_with_autopad_same", "test_conv_with_strides_and_asymmetric_padding",
	"test_maxpool_1d_default", "test_maxpool_2d_ceil", "test_maxpool_2d_dilations", "test_maxpool_2d_same_lower",
	"test_maxpool_3d_default", "test_maxpool_with_argmax_2d_precomputed_strides",
	"test_averagepool_2d_pads_count_include_pad", "test_averagepool_2d_same_upper", "test_averagepool_2d_ceil",
	"test_globalaveragepool", "test_globalmaxpool", "test_if", "test_loop11", "test_scan9_sum",
	"test_range_float_type_positive_delta_expanded",
}

// nodeTestMin is the least number of node tests that must pass.
const nodeTestMin = 300

// TestONNXNodeTests runs every node test whose model the reader accepts
// and sorts the rest:
//   - a test using an op type trnn does not know is "unsupported op", and
//     counted;
//   - a test whose every op is in the op table must pass, unless it is
//     listed in skippedList with the reason it cannot (the reader refuses
//     an attribute or element type, or the run refuses training mode):
//     the listed tests must be exactly those, with those reasons;
//   - a wrong answer always fails.
func TestONNXNodeTests(t *testing.T) {
	root := nodeTestDir(t)
	dirs, err := filepath.Glob(filepath.Join(root, "test_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no node tests under %s", root)
	}
	var passed []string
	skipped := map[string]string{}    // test → why a test of known ops cannot pass
	unknownOps := map[string]string{} // test → the op type trnn lacks
	for _, dir := range dirs {
		name := filepath.Base(dir)
		model := filepath.Join(dir, "model.onnx")
		if op := nodeTestUnknownOp(t, model); op != "" {
			unknownOps[name] = op
			continue
		}
		g, err := export.ReadONNX(model)
		if errors.Is(err, export.ErrUnsupported) {
			skipped[name] = strings.TrimPrefix(err.Error(), model+": ")
			continue
		}
		var runErr error
		ok := t.Run(name, func(t *testing.T) {
			if err != nil {
				t.Fatal(err)
			}
			runErr = runNodeTest(t, g, dir)
			if runErr != nil && nodeSkipReasons[name] == "run: "+runErr.Error() {
				t.Skip(runErr)
			}
			if runErr != nil {
				t.Fatal(runErr)
			}
		})
		switch {
		case runErr != nil:
			skipped[name] = "run: " + runErr.Error()
		case ok:
			passed = append(passed, name)
		}
	}
	checkSkippedList(t, skipped)
	checkSupportedList(t, passed)
	for _, name := range nodeTestMustPass {
		if !slices.Contains(passed, name) {
			t.Errorf("%s must pass but did not", name)
		}
	}
	if len(passed) < nodeTestMin {
		t.Errorf("%d node tests pass, fewer than %d", len(passed), nodeTestMin)
	}
	t.Logf("node tests: %d passed, %d of known ops skipped (%s), %d with ops trnn lacks, of %d",
		len(passed), len(skipped), skippedList, len(unknownOps), len(dirs))
}

// runNodeTest runs every data set of a node test, failing t on a wrong
// answer. It returns the interpreter's error, which the caller decides
// about.
func runNodeTest(t *testing.T, g *graph.Graph, dir string) error {
	t.Helper()
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
			return fmt.Errorf("%s: %v", filepath.Base(set), err)
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
	return nil
}

// nodeTestUnknownOp returns the first op type of the model, subgraphs
// included, that is not an ONNX operator of the op table, or "".
func nodeTestUnknownOp(t *testing.T, model string) string {
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", model, err)
	}
	var walk func(g *onnxpb.GraphProto) string
	walk = func(g *onnxpb.GraphProto) string {
		for _, n := range g.GetNode() {
			if op, ok := graph.OpByName(n.GetOpType()); !ok || !op.IsONNX() || (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") {
				return n.GetOpType()
			}
			for _, a := range n.GetAttribute() {
				for _, sub := range append([]*onnxpb.GraphProto{a.GetG()}, a.GetGraphs()...) {
					if sub == nil {
						continue
					}
					if op := walk(sub); op != "" {
						return op
					}
				}
			}
		}
		return ""
	}
	return walk(m.GetGraph())
}

// skippedList is the committed list of node tests of known ops that cannot
// pass, one per line: the test's name, a tab, and the reason (the reader's
// error, or the run's after "run: "). Regenerate it with
// TRNN_UPDATE_NODE_TESTS=1.
const skippedList = "testdata/node_tests_skipped.txt"

// nodeSkipReasons is skippedList, read once.
var nodeSkipReasons = func() map[string]string {
	m := map[string]string{}
	b, _ := os.ReadFile(skippedList)
	for _, line := range strings.Split(string(b), "\n") {
		if name, reason, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
			m[name] = reason
		}
	}
	return m
}()

func checkSkippedList(t *testing.T, skipped map[string]string) {
	t.Helper()
	if os.Getenv("TRNN_UPDATE_NODE_TESTS") != "" {
		var b strings.Builder
		b.WriteString("# Node tests whose every op trnn implements but which cannot pass, with the reason.\n")
		for _, name := range slices.Sorted(maps.Keys(skipped)) {
			fmt.Fprintf(&b, "%s\t%s\n", name, skipped[name])
		}
		if err := os.WriteFile(skippedList, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range slices.Sorted(maps.Keys(skipped)) {
		if want, ok := nodeSkipReasons[name]; !ok {
			t.Errorf("%s cannot pass but is not listed in %s: %s", name, skippedList, skipped[name])
		} else if want != skipped[name] {
			t.Errorf("%s: %s gives the reason %q, the test found %q", name, skippedList, want, skipped[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(nodeSkipReasons)) {
		if _, ok := skipped[name]; !ok {
			t.Errorf("%s is listed in %s but no longer skipped: remove it", name, skippedList)
		}
	}
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
	if len(want) < nodeTestMin {
		t.Errorf("%s lists %d tests, fewer than %d", supportedList, len(want), nodeTestMin)
	}
	for _, name := range want {
		if !slices.Contains(passed, name) {
			t.Errorf("%s is listed as supported in %s but did not pass", name, supportedList)
		}
	}
	if len(passed) > len(want) {
		t.Errorf("%d node tests pass beyond %s; regenerate it with TRNN_UPDATE_NODE_TESTS=1", len(passed)-len(want), supportedList)
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
