package loss

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
)

// TestReportJSON: a Report holds the metrics worth reporting for its label
// count, the threshold's rule only when one chose it, intervals for its
// metrics only, and reads back from its JSON as written.
func TestReportJSON(t *testing.T) {
	probs, y := []float32{0.9, 0.2, 0.6, 0.3, 0.8, 0.1}, []float32{1, 0, 0, 0, 1, 1}
	m := mustEvaluate(t, probs, y, 6, 1, EvalOptions{Threshold: 0.55})
	r := NewReport("m.onnx", "d.npz", m, []string{"y"}, ThresholdRule{Rule: RuleYouden})
	if got := slices.Sorted(maps.Keys(r.Metrics)); !slices.Equal(got, slices.Sorted(slices.Values(Reported(1)))) ||
		r.ThresholdRule != "youden" || r.Threshold != 0.55 || r.PerLabel != nil {
		t.Errorf("report %+v", r)
	}
	if !slices.Contains(Reported(1), "ece") || !slices.Contains(Reported(3), "ece") {
		t.Error("ece is not reported")
	}
	iv, err := Bootstrap(probs, y, 6, 1, EvalOptions{Threshold: 0.55}, 20, 4)
	if err != nil {
		t.Fatal(err)
	}
	r.AddBootstrap(iv, 20, 4)
	if len(r.Bootstrap.Intervals) != len(r.Metrics) || r.Bootstrap.Level != 0.95 || r.Bootstrap.Intervals["auroc"] != iv["auroc"] {
		t.Errorf("bootstrap %+v", r.Bootstrap)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	// Undefined values read back as undefined (NaN never equals itself).
	back.Metrics, r.Metrics = nil, nil
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("read back\n%+v\nwrote\n%+v\n%s", back, r, b)
	}
	if f := NewReport("m", "d", m, []string{"y"}, ThresholdRule{Value: 0.55}); f.ThresholdRule != "" {
		t.Errorf("a fixed threshold has rule %q", f.ThresholdRule)
	}
}
