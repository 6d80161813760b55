package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/graph"
)

func init() { subcommands = append(subcommands, newBenchCmd) }

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure how fast a model runs",
		Long: `Bench measures trnn's speed on your own model and data. Its one command,
infer, times inference: see 'trnn bench infer --help'.`,
		Args: exactArgs(0, "a command (infer)"),
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newBenchInferCmd())
	return c
}

// benchInferFlags are the options of trnn bench infer.
type benchInferFlags struct {
	data, via, cpuProfile string
	batch, repeat         int
	json                  bool
}

func newBenchInferCmd() *cobra.Command {
	var f benchInferFlags
	c := &cobra.Command{
		Use:   "infer MODEL --data FILE",
		Short: "Time a model's inference on the first rows of a data file",
		Long: `Infer loads MODEL (an exported model.onnx, any ONNX model Predict can
feed, a checkpoint or a run directory) once, reads the first --batch
sequences of --data, runs them once to warm up, then --repeat more times,
and prints the milliseconds per batch: the mean, the median (p50) and the
99th percentile (p99) of the repeats.

--via predict (the default) times Session.Predict on the sequences, with
its checks and its batching across cores; --via run times Session.Run on
one padded batch, built once before the timing: x [batch, time, features]
and, when the model has one, its integer lengths input [batch].

--cpuprofile FILE writes a CPU profile of the timed repeats (go tool pprof
reads it).`,
		Example: `  trnn bench infer runs/quickstart/model.onnx --data examples/quickstart.npz
  trnn bench infer model.onnx --data test.npz --batch 1 --repeat 2000 --json
  trnn bench infer model.onnx --data test.npz --via run --cpuprofile infer.prof`,
		Args: exactArgs(1, "one model file"),
		RunE: func(c *cobra.Command, args []string) error {
			return runBenchInfer(c, args[0], &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.data, "data", "", "data file (.npz or .csv) whose first rows are the batch (required)")
	fl.IntVar(&f.batch, "batch", 256, "sequences per batch: the first N of the data")
	fl.IntVar(&f.repeat, "repeat", 100, "timed runs after the warm-up")
	fl.BoolVar(&f.json, "json", false, `print one JSON line: {"ms_per_batch", "p50_ms", "p99_ms", "rows"}`)
	fl.StringVar(&f.via, "via", "predict", "what to time: predict (Session.Predict) or run (Session.Run on one padded batch)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed runs to this file")
	return c
}

// benchResult is what trnn bench infer prints, in --json's names.
type benchResult struct {
	MsPerBatch float64 `json:"ms_per_batch"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Rows       int     `json:"rows"`
}

func runBenchInfer(c *cobra.Command, model string, f *benchInferFlags) error {
	cmd := c.CommandPath()
	switch {
	case f.data == "":
		return usageError{fmt.Errorf("%s: --data FILE is required", cmd)}
	case f.batch < 1:
		return usageError{fmt.Errorf("%s: --batch: expected a positive number of sequences, found %d", cmd, f.batch)}
	case f.repeat < 1:
		return usageError{fmt.Errorf("%s: --repeat: expected a positive number of runs, found %d", cmd, f.repeat)}
	case f.via != "predict" && f.via != "run":
		return usageError{fmt.Errorf("%s: --via: expected predict or run, found %q", cmd, f.via)}
	}
	sess, spec, err := openModel(model)
	if err != nil {
		return err
	}
	d, err := loadScored(f.data, spec, "", "")
	if err != nil {
		return err
	}
	n := min(f.batch, d.N())
	seqs := make([][][]float32, n)
	for i := range seqs {
		seqs[i] = sequence(d, i)
	}
	once := func() error {
		_, err := sess.Predict(seqs)
		return seqError(err, d, 0)
	}
	if f.via == "run" {
		inputs, err := runInputs(sess, seqs, d.F)
		if err != nil {
			return fmt.Errorf("%s: --via run: %v", model, err)
		}
		once = func() error {
			_, err := sess.Run(inputs)
			return err
		}
	}
	times, err := timeRuns(once, f.repeat, f.cpuProfile)
	if err != nil {
		return err
	}
	r := summarize(times, n)
	w := c.OutOrStdout()
	if f.json {
		return json.NewEncoder(w).Encode(r)
	}
	fmt.Fprintf(w, "%s via %s: %d sequences per batch, %d runs: %.3f ms per batch (p50 %.3f ms, p99 %.3f ms)\n",
		model, f.via, n, f.repeat, r.MsPerBatch, r.P50, r.P99)
	return nil
}

// timeRuns runs once for warm-up, then repeat times, timing each, with the
// timed runs CPU-profiled into profile when it is not "".
func timeRuns(once func() error, repeat int, profile string) ([]time.Duration, error) {
	if err := once(); err != nil {
		return nil, err
	}
	stop, err := startCPUProfile(profile)
	if err != nil {
		return nil, err
	}
	times := make([]time.Duration, repeat)
	for i := range times {
		t0 := time.Now()
		if err = once(); err != nil {
			break
		}
		times[i] = time.Since(t0)
	}
	return times, errors.Join(err, stop())
}

// summarize gives the mean, median and 99th percentile (nearest rank) of
// times in milliseconds.
func summarize(times []time.Duration, rows int) benchResult {
	ms := make([]float64, len(times))
	sum := 0.0
	for i, t := range times {
		ms[i] = float64(t) / 1e6
		sum += ms[i]
	}
	slices.Sort(ms)
	rank := func(q float64) float64 { return ms[max(0, int(math.Ceil(q*float64(len(ms))))-1)] }
	return benchResult{MsPerBatch: sum / float64(len(ms)), P50: rank(0.5), P99: rank(0.99), Rows: rows}
}

// startCPUProfile starts writing a CPU profile to path, unless path is "",
// and returns the function that ends it and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	if err := makeParent(path); err != nil {
		return nil, err
	}
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(fh); err != nil {
		fh.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %v", path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := fh.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: %v", err)
		}
		return nil
	}, nil
}

// runInputs builds Session.Run's inputs for seqs as one batch: the model's
// float input [batch, time, features], zero-padded to the longest sequence,
// and its integer lengths input [batch] when it has one.
func runInputs(sess *trnn.Session, seqs [][][]float32, F int) (map[string]*trnn.Tensor, error) {
	var x, lengths *trnn.Value
	for _, v := range sess.Inputs() {
		switch {
		case x == nil && v.DType == trnn.Float32 && len(v.Shape) == 3:
			x = &v
		case lengths == nil && (v.DType == trnn.Int32 || v.DType == trnn.Int64) && len(v.Shape) == 1:
			lengths = &v
		default:
			return nil, fmt.Errorf("input %q %s: expected a float32 input [batch, time, features] and at most one integer lengths input [batch]", v.Name, v.TypeString())
		}
	}
	if x == nil {
		return nil, errors.New("the model has no float32 input [batch, time, features]")
	}
	T := 0
	for _, s := range seqs {
		T = max(T, len(s))
	}
	xt := graph.NewTensor(graph.Float32, len(seqs), T, F)
	for b, s := range seqs {
		for t, step := range s {
			copy(xt.F32[(b*T+t)*F:], step)
		}
	}
	in := map[string]*trnn.Tensor{x.Name: xt}
	if lengths != nil {
		l := graph.NewTensor(lengths.DType, len(seqs))
		for b, s := range seqs {
			if l.DType == graph.Int32 {
				l.I32[b] = int32(len(s))
			} else {
				l.I64[b] = int64(len(s))
			}
		}
		in[lengths.Name] = l
	}
	return in, nil
}
