package main

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/internal/plots"
	"github.com/trnn/trnn/loss"
)

// calibrationCase is a case of loss/testdata/calibration_golden.json:
// probabilities and labels with scikit-learn's ECE and the F1, Youden's J
// and rates at each threshold rule's choice.
type calibrationCase struct {
	Name        string
	Probs, Y    []float32
	Reliability struct{ ECE float64 }
	Thresholds  map[string]struct{ F1, J, TPR, FPR float64 }
}

// probsData writes the golden case as data for probsModel, whose output is
// its input: x [n, 1, 1] holds the probabilities, y the labels.
func probsData(t *testing.T, dir string) (model, file string, c calibrationCase) {
	t.Helper()
	var g struct{ Cases []calibrationCase }
	b, err := os.ReadFile(filepath.Join("..", "..", "loss", "testdata", "calibration_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	c = g.Cases[1] // 500 scores with ties
	d := &data.Dataset{F: 1, K: 1, Y: c.Y}
	for _, p := range c.Probs {
		d.X = append(d.X, []float32{p})
	}
	file = filepath.Join(dir, "probs.npz")
	if err := data.WriteNPZ(file, d); err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "identity.onnx")
	probsModel(t, model, 1)
	return model, file, c
}

// evalJSON runs eval --json and decodes its report.
func evalJSON(t *testing.T, args ...string) *loss.Report {
	t.Helper()
	status, out, errs := trnnCmd(t, append(append([]string{"eval"}, args...), "--json")...)
	if status != 0 {
		t.Fatalf("eval %v: status %d\n%s", args, status, errs)
	}
	var r loss.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return &r
}

// TestEvalThresholdRules: --threshold best_f1, youden and sensitivity=S
// choose the threshold scikit-learn's curves give (the F1, J and rates at
// it are the golden ones), report the rule and the threshold chosen, and
// the table prints both; eval reports scikit-learn's ECE.
func TestEvalThresholdRules(t *testing.T) {
	model, file, c := probsData(t, t.TempDir())
	def := evalJSON(t, model, "--data", file)
	if v := def.Metrics["ece"]; !v.OK || math.Abs(v.V-c.Reliability.ECE) > 1e-9 || def.Threshold != 0.5 || def.ThresholdRule != "" {
		t.Errorf("default: ece %v (scikit-learn %v), threshold %v %q", v, c.Reliability.ECE, def.Threshold, def.ThresholdRule)
	}
	for _, rule := range []string{"best_f1", "youden", "sensitivity=0.9", "sensitivity=0.5"} {
		want := c.Thresholds[rule]
		r := evalJSON(t, model, "--data", file, "--threshold", rule)
		if r.ThresholdRule != rule || r.Threshold == 0.5 {
			t.Errorf("%s: threshold %v, rule %q", rule, r.Threshold, r.ThresholdRule)
		}
		// The rates at the threshold eval chose, counted here.
		var tp, fp, pos, neg float64
		for i, p := range c.Probs {
			pred := p > float32(r.Threshold)
			if c.Y[i] == 1 {
				pos++
				if pred {
					tp++
				}
			} else {
				neg++
				if pred {
					fp++
				}
			}
		}
		tpr, fpr := tp/pos, fp/neg
		switch {
		case rule == "best_f1" && math.Abs(r.Metrics["f1"].V-want.F1) > 1e-12:
			t.Errorf("best_f1: f1 %v, scikit-learn's best %v", r.Metrics["f1"], want.F1)
		case rule == "youden" && math.Abs(tpr-fpr-want.J) > 1e-12:
			t.Errorf("youden: J %v, scikit-learn's best %v", tpr-fpr, want.J)
		case strings.HasPrefix(rule, "sensitivity") && (tpr != want.TPR || fpr != want.FPR):
			t.Errorf("%s: TPR %v FPR %v, scikit-learn %v %v", rule, tpr, fpr, want.TPR, want.FPR)
		}
		status, out, _ := trnnCmd(t, "eval", model, "--data", file, "--threshold", rule)
		thr := strconv.FormatFloat(r.Threshold, 'g', -1, 32)
		if status != 0 || !strings.Contains(out, "threshold "+thr+" (chosen by "+rule+" on this data)") {
			t.Errorf("%s: the table does not print threshold %s:\n%s", rule, thr, out)
		}
	}
	for _, bad := range []string{"1.5", "best", "sensitivity=2", "0"} {
		status, _, stderr := trnnCmd(t, "eval", model, "--data", file, "--threshold", bad)
		if status != 2 || !strings.HasPrefix(stderr, "--threshold: expected ") {
			t.Errorf("--threshold %s: status %d, %q", bad, status, stderr)
		}
	}
}

// TestEvalBootstrap: --bootstrap N adds 95% intervals over N resamples,
// the same for the same --seed and others for another; the table shows
// them; bad values are command-line errors.
func TestEvalBootstrap(t *testing.T) {
	model, file, _ := probsData(t, t.TempDir())
	a := evalJSON(t, model, "--data", file, "--bootstrap", "200")
	b := evalJSON(t, model, "--data", file, "--bootstrap", "200", "--seed", "1")
	c := evalJSON(t, model, "--data", file, "--bootstrap", "200", "--seed", "2")
	if a.Bootstrap == nil || a.Bootstrap.Replicates != 200 || a.Bootstrap.Seed != 1 || a.Bootstrap.Level != 0.95 {
		t.Fatalf("bootstrap %+v", a.Bootstrap)
	}
	if !reflect.DeepEqual(a.Bootstrap, b.Bootstrap) || reflect.DeepEqual(a.Bootstrap.Intervals, c.Bootstrap.Intervals) {
		t.Error("intervals do not follow the seed")
	}
	for name, v := range a.Metrics {
		iv := a.Bootstrap.Intervals[name]
		if !(iv.Lo.V <= v.V && v.V <= iv.Hi.V && iv.Lo.V < iv.Hi.V) || iv.Defined != 200 {
			t.Errorf("%s = %v: interval %+v", name, v.V, iv)
		}
	}
	if n := evalJSON(t, model, "--data", file); n.Bootstrap != nil {
		t.Error("intervals without --bootstrap")
	}
	status, out, _ := trnnCmd(t, "eval", model, "--data", file, "--bootstrap", "100")
	if status != 0 || !strings.Contains(out, "95% CI") || !strings.Contains(out, "percentile bootstrap over 100 resamples") {
		t.Errorf("table:\n%s", out)
	}
	for _, args := range [][]string{{"--bootstrap", "-1"}, {"--seed", "3"}, {"--bootstrap", "1000000"}} {
		status, _, stderr := trnnCmd(t, append([]string{"eval", model, "--data", file}, args...)...)
		if status != 2 || !strings.HasPrefix(stderr, args[0]+": ") {
			t.Errorf("%v: status %d, %q", args, status, stderr)
		}
	}
}

// TestEvalReliabilityDiagram: --plots adds reliability.png, a panel with
// one point per non-empty bin and the diagonal of perfect calibration.
func TestEvalReliabilityDiagram(t *testing.T) {
	dir := t.TempDir()
	model, file, c := probsData(t, dir)
	figs := filepath.Join(dir, "figs")
	status, out, errs := trnnCmd(t, "eval", model, "--data", file, "--plots", figs)
	if status != 0 || !strings.Contains(out, filepath.Join(figs, ReliabilityFile)) {
		t.Fatalf("eval --plots: status %d\n%s%s", status, out, errs)
	}
	f, err := os.Open(filepath.Join(figs, ReliabilityFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("reliability.png: %v", err)
	}
	d, err := writeReliability(dir, c.Probs, c.Y, loss.Value{V: c.Reliability.ECE, OK: true})
	if err != nil {
		t.Fatal(err)
	}
	nonEmpty := 0
	for _, b := range loss.Reliability(c.Probs, c.Y) {
		if b.Count > 0 {
			nonEmpty++
		}
	}
	if len(d.Panels) != 1 {
		t.Fatalf("%d panels", len(d.Panels))
	}
	p := d.Panels[0]
	var kinds []plots.LineKind
	for _, l := range p.Lines {
		kinds = append(kinds, l.Kind)
		if l.Kind == plots.SeriesLine && l.Points != nonEmpty {
			t.Errorf("the curve joins %d points, want one per non-empty bin (%d)", l.Points, nonEmpty)
		}
	}
	if !reflect.DeepEqual(kinds, []plots.LineKind{plots.ReferenceLine, plots.SeriesLine}) ||
		p.Title != "Reliability, ECE "+metricFormat(c.Reliability.ECE) {
		t.Errorf("panel %q with lines %+v", p.Title, p.Lines)
	}
}
