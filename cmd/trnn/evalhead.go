package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/runtime"
)

// evaluateHead is eval for models of classes, targets or per-step labels:
// their metrics have no threshold, and their intervals and figures are not
// drawn.
func evaluateHead(c *cobra.Command, model string, f *evalFlags, sess *trnn.Session, spec *compiler.Spec, d *data.Dataset) (*runtime.HeadReport, error) {
	o := spec.Outputs
	kind := o.Kind()
	if o.PerStep {
		kind = "per-step " + kind
	}
	for _, flag := range []string{"threshold", "bootstrap", "plots"} {
		if c.Flags().Changed(flag) {
			return nil, usageError{fmt.Errorf("--%s: applies to models of per-sequence sigmoid labels, and %s is a model of %s", flag, model, kind)}
		}
	}
	var last []float32
	var steps [][]float32
	var err error
	if o.PerStep {
		steps, err = predictSteps(sess, d)
	} else {
		last, err = predictAll(sess, d)
	}
	if err != nil {
		return nil, err
	}
	e, err := runtime.EvaluateHead(spec, d, last, steps, nil)
	if err != nil {
		return nil, err
	}
	return runtime.NewHeadReport(model, f.dataFile, spec, e, d.N()), nil
}

// predictSteps returns every sequence's outputs at every step, [n][len_i·W].
func predictSteps(sess *trnn.Session, d *data.Dataset) ([][]float32, error) {
	out := make([][]float32, 0, d.N())
	for lo := 0; lo < d.N(); lo += stepChunkSeqs {
		var seqs [][][]float32
		for i := lo; i < min(lo+stepChunkSeqs, d.N()); i++ {
			seqs = append(seqs, sequence(d, i))
		}
		rows, err := sess.PredictSteps(seqs)
		if err != nil {
			return nil, seqError(err, d, lo)
		}
		for _, seq := range rows {
			var flat []float32
			for _, row := range seq {
				flat = append(flat, row...)
			}
			out = append(out, flat)
		}
	}
	return out, nil
}

// stepChunkSeqs is how many sequences predictSteps asks for at once.
const stepChunkSeqs = 256

// writeHeadTable prints a HeadReport: its metrics, and for classes the
// confusion matrix.
func writeHeadTable(w io.Writer, r *runtime.HeadReport) {
	what := fmt.Sprintf("%d %s", len(r.Names), r.Head)
	if len(r.Names) == 1 {
		what = "1 " + strings.TrimSuffix(r.Head, "s")
	}
	where := "final step"
	if r.PerStep {
		where = fmt.Sprintf("last labelled step, and step_ metrics over %d labelled steps", r.LabelledSteps)
	}
	fmt.Fprintf(w, "%s on %s: %d sequences, %s, %s\n\n", r.Model, r.Data, r.Sequences, what, where)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range runtime.MetricOrder(outputsOf(r)) {
		v, ok := r.Metrics[name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, valueString(v.V, v.OK))
	}
	tw.Flush()
	// A per-step model is judged at every labelled step: its matrix is
	// that one (the last labelled steps' is in the JSON).
	conf, over := r.Confusion, "sequences"
	if r.StepConfusion != nil {
		conf, over = r.StepConfusion, "labelled steps"
	}
	if conf == nil {
		return
	}
	fmt.Fprintf(w, "\nconfusion matrix over %s (rows: true class, columns: predicted class)\n", over)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, n := range r.Names {
		fmt.Fprintf(tw, "%s\t", n)
	}
	fmt.Fprintln(tw)
	for i, row := range conf {
		fmt.Fprintf(tw, "%s\t", r.Names[i])
		for _, n := range row {
			fmt.Fprintf(tw, "%s\t", strconv.Itoa(n))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// outputsOf is the outputs section a report describes, as far as the order
// of its metrics goes.
func outputsOf(r *runtime.HeadReport) compiler.Outputs {
	o := compiler.Outputs{PerStep: r.PerStep}
	switch r.Head {
	case compiler.KindClasses:
		o.Classes = r.Names
	case compiler.KindTargets:
		o.Targets, o.TargetNames = len(r.Names), r.Names
	default:
		o.Labels, o.LabelNames = len(r.Names), r.Names
	}
	return o
}
