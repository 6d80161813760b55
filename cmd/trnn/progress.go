package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/trnn/trnn/runtime"
)

// progress reports training: on a terminal a progress bar per epoch
// (batches, sequences/s, running loss) on stderr, and one summary line per
// epoch on stdout either way.
type progress struct {
	out, errw io.Writer
	val       bool
	monitor   string
	bar       *progressbar.ProgressBar
	start     time.Time
	epoch     int
	epochs    int
	lastDraw  time.Time
}

func newProgress(out, errw io.Writer, val bool, monitor string) *progress {
	p := &progress{out: out, errw: errw, val: val, monitor: monitor}
	if f, ok := errw.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		p.errw = nil // not a terminal: plain lines only
	}
	return p
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
	fmt.Fprintf(&b, "  %.1fs  %.0f seq/s", r.Seconds, float64(r.Sequences)/r.Seconds)
	if best && p.val {
		b.WriteString("  * best")
	}
	fmt.Fprintln(p.out, b.String())
}

func (p *progress) Note(msg string) { fmt.Fprintln(p.out, msg) }

// metricString formats a metric, or "undefined" when it has no value.
func metricString(m map[string]float64, name string) string {
	if v, ok := m[name]; ok {
		return fmt.Sprintf("%.4f", v)
	}
	return "undefined"
}
