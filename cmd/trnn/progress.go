package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/runtime"
)

// progress reports training: on a terminal a progress bar per epoch
// (batches, sequences/s, running loss) on stderr, and on stdout either way
// the run's start, one summary line per epoch and the outcome.
type progress struct {
	out, errw io.Writer
	val       bool
	monitor   string
	bar       *progressbar.ProgressBar
	started   time.Time // when training started, past loading and checks
	start     time.Time // when the current epoch started
	epoch     int
	epochs    int
}

func newProgress(out, errw io.Writer) *progress {
	p := &progress{out: out, errw: errw}
	if f, ok := errw.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		p.errw = nil // not a terminal: plain lines only
	}
	return p
}

// Start prints what is trained where, and where a resumed run stands.
func (p *progress) Start(r runtime.RunInfo) {
	p.val, p.monitor, p.started = r.Val > 0, r.Monitor, time.Now()
	fmt.Fprintf(p.out, "training %s: %d sequences", r.Name, r.Train)
	if p.val {
		where := "final step"
		if strings.HasPrefix(r.Monitor, compiler.StepMetricPrefix) {
			where = "every labelled step"
		}
		fmt.Fprintf(p.out, ", validating on %d (%s, monitoring %s)", r.Val, where, r.Monitor)
	}
	if r.Test > 0 {
		fmt.Fprintf(p.out, ", testing on %d held out", r.Test)
	}
	fmt.Fprintf(p.out, "; run directory %s\n", r.Dir)
	switch {
	case !r.Resumed:
	case r.Stopped:
		fmt.Fprintf(p.out, "the run was stopped early after epoch %d; nothing to resume\n", r.Done)
	case r.Done >= r.Epochs:
		fmt.Fprintf(p.out, "the run already finished its %d epochs; give --epochs N to train longer\n", r.Done)
	default:
		fmt.Fprintf(p.out, "resuming after epoch %d of %d\n", r.Done, r.Epochs)
	}
}

func (p *progress) EpochStart(epoch, epochs, batches int) {
	p.epoch, p.epochs, p.start = epoch, epochs, time.Now()
	if p.errw == nil {
		return
	}
	p.bar = progressbar.NewOptions(batches,
		progressbar.OptionSetWriter(p.errw),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, epochs)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

func (p *progress) Batch(done, seqs int, running float64) {
	if p.bar == nil {
		return
	}
	rate := float64(seqs) / time.Since(p.start).Seconds()
	p.bar.Set(done)
	p.bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  %.0f seq/s", p.epoch, p.epochs, running, rate))
}

func (p *progress) EpochEnd(r runtime.EpochRecord, best bool) {
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
		p.bar = nil
	}
	width := len(fmt.Sprint(p.epochs))
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %*d/%d  train_loss %.4f  train_final_loss %.4f", width, r.Epoch, p.epochs, r.TrainLoss, r.TrainFinalLoss)
	if p.val {
		fmt.Fprintf(&b, "  val_loss %s", metricString(r.Val, "loss"))
		if p.monitor != "loss" {
			fmt.Fprintf(&b, "  val_%s %s", p.monitor, metricString(r.Val, p.monitor))
		}
	}
	if r.LR != 0 { // a schedule sets the rate
		fmt.Fprintf(&b, "  lr %s", strconv.FormatFloat(r.LR, 'g', 4, 64))
	}
	fmt.Fprintf(&b, "  %.1fs  %.0f seq/s", r.Seconds, float64(r.Sequences)/r.Seconds)
	if best && p.val {
		b.WriteString("  * best")
	}
	fmt.Fprintln(p.out, b.String())
}

func (p *progress) Note(msg string) { fmt.Fprintln(p.out, msg) }

// Done prints what the finished run's model.onnx holds and the run
// directory's files. A resumed run that had nothing left to train prints
// nothing more: Start said so.
func (p *progress) Done(res *runtime.Result) {
	if res.Trained == 0 {
		writeTest(p.out, res.Test)
		return
	}
	fmt.Fprintf(p.out, "done in %s: ", time.Since(p.started).Round(100*time.Millisecond))
	if res.Best != nil {
		fmt.Fprintf(p.out, "model.onnx holds epoch %d (val_%s %.4f)", res.Best.Epoch, res.Best.Metric, res.Best.Value)
	} else {
		fmt.Fprintf(p.out, "model.onnx holds epoch %d", res.Epochs)
	}
	dir := res.Dir
	fmt.Fprintf(p.out, "\n  %s\n  %s\n  %s\n  %s\n",
		filepath.Join(dir, runtime.ModelFile), filepath.Join(dir, runtime.CheckpointFile),
		filepath.Join(dir, runtime.MetricsFile), filepath.Join(dir, runtime.CurvesFile))
	if res.Test != nil {
		fmt.Fprintf(p.out, "  %s\n", filepath.Join(dir, runtime.TestFile))
	}
	writeTest(p.out, res.Test)
}

// metricString formats a metric, or "undefined" when it has no value.
func metricString(m map[string]float64, name string) string {
	if v, ok := m[name]; ok {
		return fmt.Sprintf("%.4f", v)
	}
	return "undefined"
}
