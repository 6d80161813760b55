package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/loss"
	"github.com/trnn/trnn/runtime"
)

// evalFlags are eval's flags.
type evalFlags struct {
	dataFile, plotDir, threshold, columns string
	asJSON                                bool
	bootstrap                             int
	seed                                  uint64
}

// evalRun is what evaluate computed, for the figures and the tables.
type evalRun struct {
	d      *data.Dataset
	probs  []float32 // [n·K] final-step probabilities
	met    *loss.Metrics
	labels []string
	// head is the report of a model of classes, targets or per-step
	// labels; the fields above are then unset.
	head *runtime.HeadReport
}

// needLabels is why eval refuses data without labels.
const needLabels = "eval scores the model's predictions against them, and trnn predict scores data without labels"

// evaluate checks eval's flags, runs the model on the data, chooses the
// threshold and computes the metrics, with bootstrap intervals at the
// same threshold when asked.
func evaluate(c *cobra.Command, model string, f *evalFlags) (*loss.Report, *evalRun, error) {
	if f.dataFile == "" {
		return nil, nil, usageError{fmt.Errorf("trnn eval: --data FILE is required")}
	}
	rule, err := loss.ParseThreshold(f.threshold)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--threshold: %v", err)}
	}
	if f.bootstrap < 0 || f.bootstrap > compiler.MaxBootstrap {
		return nil, nil, usageError{fmt.Errorf("--bootstrap: expected a number of resamples in [0, %d], found %d", compiler.MaxBootstrap, f.bootstrap)}
	}
	if c.Flags().Changed("seed") && f.bootstrap == 0 {
		return nil, nil, usageError{fmt.Errorf("--seed: seeds the resampling of --bootstrap N, which is not given")}
	}
	sess, spec, err := openModel(model)
	if err != nil {
		return nil, nil, err
	}
	d, err := loadScored(f.dataFile, spec, f.columns, needLabels)
	if err != nil {
		return nil, nil, err
	}
	if o := spec.Outputs; o.Kind() != compiler.KindLabels || o.PerStep {
		hr, err := evaluateHead(c, model, f, sess, spec, d)
		return nil, &evalRun{head: hr}, err
	}
	probs, err := predictAll(sess, d)
	if err != nil {
		return nil, nil, err
	}
	thr, err := loss.ChooseThreshold(probs, d.Y, rule)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", f.dataFile, err)
	}
	opts := loss.EvalOptions{Threshold: thr}
	met, err := loss.Evaluate(probs, d.Y, d.N(), d.K, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", model, err)
	}
	ev := &evalRun{d: d, probs: probs, met: met, labels: spec.Outputs.LabelNames}
	rep := loss.NewReport(model, f.dataFile, met, ev.labels, rule)
	if f.bootstrap > 0 {
		iv, err := loss.Bootstrap(probs, d.Y, d.N(), d.K, opts, f.bootstrap, f.seed)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", model, err)
		}
		rep.AddBootstrap(iv, f.bootstrap, f.seed)
	}
	return rep, ev, nil
}
