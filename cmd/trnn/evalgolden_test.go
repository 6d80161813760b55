package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export/onnxpb"
)

// probsModel writes a model whose probs are its input x [batch, 1, K]
// squeezed to [batch, K]: evaluated on data that holds probabilities in x,
// eval's metrics are those of these probabilities against y.
func probsModel(t *testing.T, path string, K int) {
	t.Helper()
	axes := &onnxpb.TensorProto{Name: proto.String("axes"), Dims: []int64{1},
		DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{1}}
	writeONNX(t, path, &onnxpb.GraphProto{
		Input:       []*onnxpb.ValueInfoProto{onnxValue("x", "batch", "time", K)},
		Output:      []*onnxpb.ValueInfoProto{onnxValue("probs", "batch", K)},
		Initializer: []*onnxpb.TensorProto{axes},
		Node:        []*onnxpb.NodeProto{onnxNode("squeeze", "Squeeze", []string{"x", "axes"}, "probs")},
	})
}

// evalGolden is testdata/golden/eval/CASE.json, written by
// testdata/python/eval_golden.py with scikit-learn.
type evalGolden struct {
	Sequences, Labels int
	Runs              []struct {
		Threshold float64
		Metrics   map[string]float64
		PerLabel  []map[string]float64 `json:"per_label"`
	}
}

// TestEvalMatchesScikitLearn runs `trnn eval --json` on the golden data
// sets and compares every metric, and every label's, with scikit-learn's
// (roc_auc_score, average_precision_score, f1_score, accuracy_score,
// brier_score_loss, log_loss), at the default threshold and at --threshold
// 0.3. Labels scored against the wrong rows, a threshold ignored or a
// metric computed differently fail it; so does reporting a metric that
// means nothing for the task (micro averages and precision@10 of one
// label), since the golden lists exactly the metrics to report.
func TestEvalMatchesScikitLearn(t *testing.T) {
	for _, name := range []string{"one", "multi"} {
		t.Run(name, func(t *testing.T) {
			var g evalGolden
			b, err := os.ReadFile(filepath.Join("../../testdata/golden/eval", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			model := filepath.Join(t.TempDir(), "identity.onnx")
			probsModel(t, model, g.Labels)
			dataFile := filepath.Join("../../testdata/golden/eval", name+".npz")
			for _, run := range g.Runs {
				args := []string{"eval", model, "--data", dataFile, "--json"}
				if run.Threshold != 0.5 {
					args = append(args, "--threshold", strconv.FormatFloat(run.Threshold, 'g', -1, 64))
				}
				status, out, errs := trnnCmd(t, args...)
				if status != 0 {
					t.Fatalf("trnn %v: status %d\n%s", args, status, errs)
				}
				var doc struct {
					Sequences int
					Metrics   map[string]*float64
					PerLabel  []map[string]any `json:"per_label"`
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if doc.Sequences != g.Sequences {
					t.Fatalf("%d sequences, want %d", doc.Sequences, g.Sequences)
				}
				compareMetrics(t, run.Threshold, doc.Metrics, run.Metrics)
				if len(doc.PerLabel) != len(run.PerLabel) {
					t.Fatalf("threshold %g: %d per-label rows, want %d", run.Threshold, len(doc.PerLabel), len(run.PerLabel))
				}
				for k, want := range run.PerLabel {
					for field, w := range want {
						got, ok := doc.PerLabel[k][field].(float64)
						if field == "accuracy" || field == "brier" {
							continue // per-label rows report positives, auroc, auprc and f1
						}
						if !ok || !near(got, w) {
							t.Errorf("threshold %g: label %d %s = %v, scikit-learn %v", run.Threshold, k, field, doc.PerLabel[k][field], w)
						}
					}
				}
			}
		})
	}
}

// compareMetrics checks that eval reported exactly the golden metrics, each
// within rounding of scikit-learn's value.
func compareMetrics(t *testing.T, threshold float64, got map[string]*float64, want map[string]float64) {
	t.Helper()
	var gotNames, wantNames []string
	for n := range got {
		if _, isMetric := want[n]; isMetric || isReportedName(n) {
			gotNames = append(gotNames, n)
		}
	}
	for n := range want {
		wantNames = append(wantNames, n)
	}
	sort.Strings(gotNames)
	sort.Strings(wantNames)
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("threshold %g: eval reports %v, want %v", threshold, gotNames, wantNames)
	}
	for n, w := range want {
		g := got[n]
		if g == nil || !near(*g, w) {
			t.Errorf("threshold %g: %s = %v, scikit-learn %v", threshold, n, fmtPtr(g), w)
		}
	}
}

// isReportedName tells the final-step metrics Evaluate computes from other
// entries eval may add to its JSON (calibration and the like).
func isReportedName(n string) bool {
	switch n {
	case "loss", "auroc", "auprc", "accuracy", "f1", "brier", "micro_auroc", "macro_auroc",
		"micro_auprc", "macro_auprc", "micro_f1", "macro_f1", "precision_at_10":
		return true
	}
	return false
}

// near compares with a tolerance for float64 rounding in sums of a few
// hundred terms.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func fmtPtr(v *float64) string {
	if v == nil {
		return "missing"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}
