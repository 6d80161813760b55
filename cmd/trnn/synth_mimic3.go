package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/data"
)

// mimic3Hours is the length of the stays synth --mimic3 writes unless
// --min-len and --max-len say otherwise: mimic3-benchmarks' in-hospital
// mortality task reads the first 48 hours.
const mimic3Hours = 48

// runSynthMimic3 writes synth --mimic3's stays to out: flags that shape
// the plain story's features and gaps do not apply, lengths are hours, and
// without --pos-rate each label has its own prevalence.
func runSynthMimic3(c *cobra.Command, out string, o data.SynthOptions) error {
	cmd := c.CommandPath()
	if out == "" {
		return usageError{fmt.Errorf("%s: -o FILE is required (see 'trnn %s --help')", cmd, c.Name())}
	}
	fl := c.Flags()
	for _, name := range []string{"features", "gaps", "categorical", "irregular"} {
		if fl.Changed(name) {
			return usageError{fmt.Errorf("%s: --%s does not apply to --mimic3, which charts mimic3-benchmarks' 17 variables with their own gaps and times", cmd, name)}
		}
	}
	if !fl.Changed("min-len") {
		o.MinLen = min(mimic3Hours, o.MaxLen)
	}
	if !fl.Changed("max-len") {
		o.MaxLen = max(mimic3Hours, o.MinLen)
	}
	if !fl.Changed("pos-rate") {
		o.PosRate = 0
	}
	if err := o.ValidateMimic3(); err != nil {
		return usageError{fmt.Errorf("%s: %v", cmd, err)}
	}
	if strings.EqualFold(filepath.Ext(out), ".npz") {
		return usageError{fmt.Errorf("%s: --mimic3: an NPZ file has no times; write a folder (the episodes layout), .csv or .parquet", cmd)}
	}
	o.Irregular = true // what synthKind needs to know: the data has times
	kind, err := synthKind(cmd, out, o)
	if err != nil {
		return err
	}
	d := data.SynthMimic3(o)
	cols, cats := data.Mimic3Table(o.K)
	opt := data.TableOptions{Columns: cols, Categories: cats}
	if kind == synthEpisodes {
		err = data.WriteEpisodes(out, d, opt)
	} else if err = makeParent(out); err == nil {
		err = data.WriteTable(out, d, opt)
	}
	if err != nil {
		return err
	}
	pos := 0
	for _, p := range d.Positives() {
		pos += p
	}
	w := c.OutOrStdout()
	fmt.Fprintf(w, "wrote %s: %d stays of %d to %d hours (%d chart rows), %d variables (5 categorical), %d label(s), %.1f%% positive\n",
		out, d.N(), o.MinLen, o.MaxLen, d.Steps(), d.F, d.K, 100*float64(pos)/float64(d.N()*d.K))
	example := "mimic3-ihm.yaml"
	if o.K > 1 {
		example = "mimic3-phenotyping.yaml"
	}
	fmt.Fprintf(w, "train on it with: trnn train examples/%s --data %s\n", example, out)
	return nil
}
