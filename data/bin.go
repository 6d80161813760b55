package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/trnn/trnn/internal/fileio"
)

// Shapes: F features, K label columns, R rows of one sequence, n its steps.

// maxBinSteps bounds the steps one binned sequence may have (a time of
// 1e300 would otherwise ask for that many empty steps): 2^20, 120 years
// of hourly bins.
const maxBinSteps = 1 << 20

// checkTime returns why time v cannot be binned into steps of width bin,
// or "".
func checkTime(v, bin float64) string {
	switch {
	case v < 0:
		return fmt.Sprintf("time %s is negative (with data.bin the step column is a time from 0)", num(v))
	case v/bin >= maxBinSteps:
		return fmt.Sprintf("time %s falls in step %s, past the limit of %d steps per sequence (data.bin is %g)",
			num(v), num(math.Floor(v/bin)), maxBinSteps, bin)
	}
	return ""
}

// num writes a time or a step for a message: whole numbers in full up to
// 10^15, others in the shortest form.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// binOf is the step a time checkTime accepts falls in. A time within
// binSnap steps of a bin's start counts as that start: binStart writes
// step 3's start with bin 0.1 as "0.3", and 0.3/0.1 is 2.9999999999999996,
// so without the snap a step name read back would fall in the step before.
func binOf(v, bin float64) int {
	r := v / bin
	if n := math.Round(r); math.Abs(r-n) <= binSnap*max(1, n) {
		return int(n)
	}
	return int(math.Floor(r))
}

// binSnap is far above the rounding of v/bin and of binStart's 12
// significant digits (about 1e-12 relative), and far below any gap a real
// time stamp has from a bin's start.
const binSnap = 1e-9

// budget bounds the values that binning may create in all, since empty
// bins cost memory that no byte of the file pays for: the size limit on
// files (fileio.MaxBytes) in float32 values. Safe for concurrent use.
type budget struct {
	left  atomic.Int64
	limit int64 // bytes
}

func newBudget() (*budget, error) {
	limit, err := fileio.MaxBytes()
	if err != nil {
		return nil, err
	}
	b := &budget{limit: limit}
	b.left.Store(limit / 4)
	return b, nil
}

// take reserves n values, or reports that the data set would hold more
// than the limit.
func (b *budget) take(n int) string {
	if b.left.Add(-int64(n)) < 0 {
		return fmt.Sprintf("the binned steps hold more than %s, the limit on what trnn reads (set %s to raise it)",
			fileio.Bytes(b.limit), fileio.EnvMaxBytes)
	}
	return ""
}

// seqSteps is one sequence's steps as a Dataset holds them.
type seqSteps struct {
	x     []float32 // [n·F]
	y     []float32 // [n·K] per-step labels; nil unless read per step
	names []string  // [n] step values; nil without a step column
}

// steps orders s's rows into steps: file order without a step column, by
// step value with one, or into bins of the time with s.Bin.
func (dec *recordDecoder) steps(s *recordSeq) (seqSteps, *Error) {
	switch {
	case dec.stepCol < 0:
		return seqSteps{x: slices.Clone(s.vals), y: slices.Clone(s.ylabs)}, nil
	case dec.s.Bin > 0:
		return dec.binned(s)
	}
	order, e := stepOrder(s)
	if e != nil {
		return seqSteps{}, dec.errf(e.line, "id "+quote(s.id), "step %s appears twice (first on %s)", echo(e.text), dec.at(e.first))
	}
	F, K := len(dec.cols.Features), len(s.ylabs)/len(s.steps)
	st := seqSteps{x: make([]float32, len(s.vals)), names: make([]string, len(order))}
	if s.ylabs != nil {
		st.y = make([]float32, len(s.ylabs))
	}
	for r, o := range order {
		copy(st.x[r*F:(r+1)*F], s.vals[o*F:(o+1)*F])
		copy(st.y[r*K:(r+1)*K], s.ylabs[o*K:(o+1)*K])
		st.names[r] = s.texts[o]
	}
	return st, nil
}

// binned puts s's rows into steps of width Bin by their time: within a
// step the last observation (by time, then file order) of each feature and
// each per-step label wins, and a step without rows holds NaN, which only
// a schema that allows missing values accepts. The sequence runs from step
// 0 to the step of its last row.
func (dec *recordDecoder) binned(s *recordSeq) (seqSteps, *Error) {
	bin, F := dec.s.Bin, len(dec.cols.Features)
	order := sortRows(s)
	n := binOf(s.steps[order[len(order)-1]], bin) + 1
	K := len(s.ylabs) / len(s.steps)
	if msg := dec.budget.take(n * (F + K)); msg != "" {
		return seqSteps{}, dec.errf(0, "id "+quote(s.id), "%s", msg)
	}
	st := seqSteps{x: nans(n * F), names: dec.binStarts(n)}
	if s.ylabs != nil {
		st.y = nans(n * K)
	}
	seen := make([]bool, n)
	for _, r := range order {
		b := binOf(s.steps[r], bin)
		seen[b] = true
		keepObserved(st.x[b*F:(b+1)*F], s.vals[r*F:(r+1)*F])
		keepObserved(st.y[b*K:(b+1)*K], s.ylabs[r*K:(r+1)*K])
	}
	if b := slices.Index(seen, false); b >= 0 && !dec.s.Missing {
		return seqSteps{}, dec.errf(0, "id "+quote(s.id), "no rows in step %d (times from %s to %s): %s",
			b, st.names[b], dec.binStart(b+1), "an empty step is missing values, "+refuseMissing)
	}
	return st, nil
}

// keepObserved copies the values of src that are not NaN into dst.
func keepObserved(dst, src []float32) {
	for j, v := range src {
		if v == v {
			dst[j] = v
		}
	}
}

// nans is n NaN values.
func nans(n int) []float32 {
	s := make([]float32, n)
	nan := float32(math.NaN())
	for i := range s {
		s[i] = nan
	}
	return s
}

// binStarts names the first n steps by their start times, in a slice every
// sequence of the table shares (read-only).
func (dec *recordDecoder) binStarts(n int) []string {
	for b := len(dec.binNames); b < n; b++ {
		dec.binNames = append(dec.binNames, dec.binStart(b))
	}
	return dec.binNames[:n:n]
}

// binStart is step b's start time, b·Bin, written without the rounding
// noise of the product (0.30000000000000004 for 3·0.1 is "0.3").
func (dec *recordDecoder) binStart(b int) string {
	return strconv.FormatFloat(float64(b)*dec.s.Bin, 'g', 12, 64)
}

// stepDup is a step that appears twice in one sequence: on line first, then
// on line line (file order).
type stepDup struct {
	line, first int
	text        string
}

// sortRows returns s's rows sorted by step value, stably: rows of one
// value stay in file order.
func sortRows(s *recordSeq) []int {
	order := make([]int, len(s.steps))
	for r := range order {
		order[r] = r
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case s.steps[a] < s.steps[b]:
			return -1
		case s.steps[a] > s.steps[b]:
			return 1
		}
		return 0
	})
	return order
}

// stepOrder returns s's rows sorted by step value (stably), or the
// duplicate step whose second row comes first in the file.
func stepOrder(s *recordSeq) ([]int, *stepDup) {
	order := sortRows(s)
	var dup *stepDup
	for r := 1; r < len(order); r++ {
		a, b := order[r-1], order[r] // a < b: the stable sort keeps file order among equals
		if s.steps[a] == s.steps[b] && (dup == nil || s.lines[b] < dup.line) {
			dup = &stepDup{line: s.lines[b], first: s.lines[a], text: s.texts[b]}
		}
	}
	if dup != nil {
		return nil, dup
	}
	return order, nil
}
