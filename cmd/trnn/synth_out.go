package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trnn/trnn/data"
)

// synthEpisodes is synthKind's answer for a folder: the episodes layout.
const synthEpisodes = "episodes"

// synthKind says what synth's -o names: a file kind by its extension
// (".npz", ".csv", ".parquet") or, for a name without an extension or
// ending in a slash, a folder to write in the episodes layout. A folder
// that exists must be empty: synth never mixes its stays with files
// already there.
func synthKind(cmd, out string, o data.SynthOptions) (string, error) {
	ext := strings.ToLower(filepath.Ext(out))
	slash := strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator))
	switch {
	case ext == ".npz" || ext == ".csv" || ext == ".parquet":
		if err := outputFile(cmd, "-o", out, "data.npz"); err != nil {
			return "", err
		}
		if ext == ".npz" && o.Irregular {
			return "", usageError{fmt.Errorf("%s: --irregular: an NPZ file has no times; write .csv, .parquet or a folder", cmd)}
		}
		return ext, nil
	case ext != "" && !slash:
		return "", usageError{fmt.Errorf("%s: -o %s: unknown file kind, want a name ending in .npz, .csv or .parquet, or a folder (the episodes layout)", cmd, out)}
	}
	st, err := os.Stat(filepath.Clean(out)) // "f.csv/" names the file f.csv, not a folder in it
	if err != nil {
		return synthEpisodes, nil
	}
	if !st.IsDir() {
		return "", usageError{fmt.Errorf("%s: -o %s is a file; give a name ending in .npz, .csv or .parquet, or a new folder for the episodes layout", cmd, out)}
	}
	if entries, err := os.ReadDir(out); err != nil || len(entries) > 0 {
		return "", usageError{fmt.Errorf("%s: -o %s is a folder; give a file name, such as %s, or a new or empty folder for the episodes layout", cmd, out, filepath.Join(out, "data.npz"))}
	}
	return synthEpisodes, nil
}

// writeSynth writes synth's data d to out, as kind says.
func writeSynth(out, kind string, d *data.Dataset, o data.SynthOptions) error {
	cols, cats := data.SynthTable(o)
	opt := data.TableOptions{Columns: cols, Categories: cats, Sparse: o.Irregular}
	switch kind {
	case ".npz":
		if err := makeParent(out); err != nil {
			return err
		}
		return data.WriteNPZ(out, d)
	case synthEpisodes:
		return data.WriteEpisodes(out, d, opt)
	}
	if err := makeParent(out); err != nil {
		return err
	}
	if kind == ".csv" && cats == nil && !o.Irregular && o.Gaps == 0 {
		return data.WriteCSV(out, d, cols) // the plain data, as synth always wrote it
	}
	return data.WriteTable(out, d, opt)
}

// synthSpec is the part of a spec that reads what synth wrote, for the
// data of the gap story, of a task (one of data.SynthTasks, "" for the
// default story) or for a file kind whose columns a spec must name: the
// features with their categories, the handling of missing values, the
// labels and the data section. "" for the plain data of an NPZ or CSV file,
// which a spec with counts reads as it is.
func synthSpec(out, kind, task string, o data.SynthOptions) string {
	gaps := o.Gaps > 0 || o.Categorical || o.Irregular
	if task == "" && !gaps && (kind == ".npz" || kind == ".csv") {
		return ""
	}
	cols, cats := data.SynthTable(o)
	var b strings.Builder
	fmt.Fprintf(&b, "inputs:\n  features: [%s]\n", strings.Join(cols.Features, ", "))
	if cats != nil {
		b.WriteString("  categorical:\n")
		for f, c := range cats {
			if c != nil {
				fmt.Fprintf(&b, "    %s: [%s]\n", cols.Features[f], yamlList(c))
			}
		}
	}
	if gaps {
		b.WriteString("  missing: forward_fill\n  indicators: true\n")
	}
	fmt.Fprintf(&b, "outputs:\n%sdata:\n  train: %s\n", synthOutputs(task, cols.Labels), out)
	if o.Irregular || kind == synthEpisodes {
		b.WriteString("  bin: 1.0\n")
	}
	if kind == synthEpisodes {
		fmt.Fprintf(&b, "  csv: {id: stay, step: %s}\n", data.EpisodesTime)
	} else if kind != ".npz" {
		fmt.Fprintf(&b, "  csv: {id: %s, step: %s}\n", cols.ID, cols.Step)
	}
	return b.String()
}

// synthOutputs is the outputs section's fields for the labels of a task
// (or of the default story, task ""), in columns named labels.
func synthOutputs(task string, labels []string) string {
	var s string
	switch data.SynthTaskTarget(task) {
	case data.LabelClass:
		s = fmt.Sprintf("  classes: [%s]\n", strings.Join(data.SynthTaskClasses(task), ", "))
	case data.LabelValue:
		s = fmt.Sprintf("  targets: [%s]\n", strings.Join(labels, ", "))
	default:
		s = fmt.Sprintf("  labels: [%s]\n", strings.Join(labels, ", "))
	}
	if data.SynthTaskPerStep(task) {
		s += "  per_step: true\n"
	}
	return s
}

// yamlList writes names as a YAML flow list's items, each quoted.
func yamlList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
