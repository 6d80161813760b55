package ops

// ONNX LSTM and GRU on dense, padded tensors, run by the packed kernels
// (LSTMForward, GRUForward).
//
// Shape legend: T steps (seq_length), B rows (batch_size), I input width,
// H hidden units, D directions (1, or 2 when bidirectional), N packed steps
// (Σ lengths).
//
// Layout 0 (ONNX's default):  X [T, B, I], Y [T, D, B, H], Y_h/Y_c/initial_h/initial_c [D, B, H].
// Layout 1 (batch first):     X [B, T, I], Y [B, T, D, H], Y_h/Y_c/initial_h/initial_c [B, D, H].
//
// Padded steps follow ONNX Runtime (the ONNX specification leaves them
// open): a row of length len runs steps 0..len−1 (the reverse direction runs
// len−1 down to 0, so each row is reversed within its own valid steps); Y is 0
// at steps t ≥ len; Y_h and Y_c are the state after the row's last processed
// step; a row of length 0 gives zeros everywhere, whatever initial_h and
// initial_c hold.
//
// The adapter stably sorts rows by descending length, gathers each
// direction's valid steps into the packed layout (Packing), runs the packed
// kernel once per direction and scatters the results back, so the work is
// proportional to Σ lengths, not T·B.

import (
	"fmt"
	"math"
	"slices"

	"github.com/trnn/trnn/graph"
)

// RNN directions of an ONNX LSTM or GRU.
const (
	DirForward       = "forward"
	DirReverse       = "reverse"
	DirBidirectional = "bidirectional"
)

// ONNXRNNAttrs are the attributes of an ONNX LSTM or GRU node that the
// kernels support (default activations, no clip, input_forget = 0).
type ONNXRNNAttrs struct {
	HiddenSize        int    // hidden_size; 0 = taken from R's last dimension
	Direction         string // DirForward (also ""), DirReverse or DirBidirectional
	Layout            int    // 0 or 1
	LinearBeforeReset bool   // GRU only
}

// ONNXRNNInputs are an ONNX LSTM's or GRU's inputs; nil is an omitted
// optional input. C0 and P are LSTM only.
type ONNXRNNInputs struct {
	X, W, R, B, SeqLens, H0, C0, P *graph.Tensor
}

// ONNXRNNOutputs says which outputs are wanted and receives them.
type ONNXRNNOutputs struct {
	WantY, WantYh, WantYc bool
	Y, Yh, Yc             *graph.Tensor
}

// ONNXRNNWork is the reusable workspace of ONNXLSTM and ONNXGRU: packing,
// packed buffers and the kernels' caches. The zero value is ready; it grows
// to the largest batch seen and is then reused without allocating. One Work
// serves one call at a time.
type ONNXRNNWork struct {
	pack   Packing
	order  []int // [B] original row of each packed row
	count  []int // [T+2] counting-sort buckets
	lens   []int // [B] lengths in packed order
	orig   []int // [B] lengths by original row
	xp     []float32
	yp     []float32
	h0, c0 []float32 // [B, H] initial states in packed order
	hT, cT []float32 // [B, H] final states in packed order
	bias   []float32 // [4H] LSTM Wb + Rb
	lstm   LSTMCache
	yShape [4]int
	hShape [3]int
	gru    GRUCache
}

// grow returns s resliced to n elements, allocating only when its capacity
// is short; the contents are not zeroed.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// rnnDims are the validated dimensions of a call.
type rnnDims struct {
	T, B, I, H, D int
	gates         int // 4 (LSTM) or 3 (GRU)
	layout        int
}

// ONNXLSTM runs an ONNX LSTM node (opset 7–21 semantics, float32). Outputs
// not wanted are left nil.
func ONNXLSTM(in ONNXRNNInputs, a ONNXRNNAttrs, out *ONNXRNNOutputs, work *ONNXRNNWork, alloc Alloc) error {
	return onnxRecurrent(graph.OpLSTM, in, a, out, work, alloc)
}

// ONNXGRU runs an ONNX GRU node (opset 7–21 semantics, float32, either
// linear_before_reset). Outputs not wanted are left nil; Yc is never set.
func ONNXGRU(in ONNXRNNInputs, a ONNXRNNAttrs, out *ONNXRNNOutputs, work *ONNXRNNWork, alloc Alloc) error {
	return onnxRecurrent(graph.OpGRU, in, a, out, work, alloc)
}

func onnxRecurrent(op graph.Op, in ONNXRNNInputs, a ONNXRNNAttrs, out *ONNXRNNOutputs, work *ONNXRNNWork, alloc Alloc) error {
	d, err := checkRNN(op, in, a)
	if err != nil {
		return err
	}
	T, B, I, H, D := d.T, d.B, d.I, d.H, d.D
	if work == nil {
		work = new(ONNXRNNWork)
	}

	// Lengths, and the packed order: rows stably sorted by descending length.
	work.orig = slices.Grow(work.orig[:0], B)[:B]
	for b := range B {
		work.orig[b] = T
		if in.SeqLens != nil {
			work.orig[b] = int(in.SeqLens.I32[b])
		}
	}
	// A counting sort (lengths are in 0..T): stable, and no allocation.
	work.count = slices.Grow(work.count[:0], T+2)[:T+2]
	clear(work.count)
	for _, l := range work.orig {
		work.count[T-l+1]++ // rows of length l go after all longer rows
	}
	for i := 1; i < len(work.count); i++ {
		work.count[i] += work.count[i-1]
	}
	work.order = slices.Grow(work.order[:0], B)[:B]
	for b, l := range work.orig {
		work.order[work.count[T-l]] = b
		work.count[T-l]++
	}
	work.lens = slices.Grow(work.lens[:0], B)[:B]
	for b, ob := range work.order {
		work.lens[b] = work.orig[ob]
	}
	work.pack.Reset(work.lens)
	pk := &work.pack
	N := pk.N()

	// Outputs; Y is zeroed because padded steps stay 0.
	if d.layout == 0 {
		work.yShape, work.hShape = [4]int{T, D, B, H}, [3]int{D, B, H}
	} else {
		work.yShape, work.hShape = [4]int{B, T, D, H}, [3]int{B, D, H}
	}
	yShape, hShape := work.yShape[:], work.hShape[:]
	out.Y, out.Yh, out.Yc = nil, nil, nil
	if out.WantY {
		out.Y = alloc.get(graph.Float32, yShape)
		clear(out.Y.F32)
	}
	if out.WantYh {
		out.Yh = alloc.get(graph.Float32, hShape)
	}
	if out.WantYc && op == graph.OpLSTM {
		out.Yc = alloc.get(graph.Float32, hShape)
	}

	work.xp = grow(work.xp, N*I)
	work.yp = grow(work.yp, N*H)
	work.hT = grow(work.hT, B*H)
	work.cT = grow(work.cT, B*H)
	G := d.gates * H
	for dir := range D {
		reverse := a.Direction == DirReverse || dir == 1
		// Gather x into packed order, reversing each row's valid steps for
		// the reverse direction.
		for t := range pk.Steps() {
			for b := range pk.Active[t] {
				ob, l := work.order[b], work.lens[b]
				s := t
				if reverse {
					s = l - 1 - t
				}
				src := d.xIndex(ob, s) * I
				dst := pk.Index(b, t) * I
				copy(work.xp[dst:dst+I], in.X.F32[src:src+I])
			}
		}
		h0 := work.gatherState(in.H0, &work.h0, d, dir)
		wd := in.W.F32[dir*G*I : (dir+1)*G*I]
		rd := in.R.F32[dir*G*H : (dir+1)*G*H]
		hT := work.hT
		if op == graph.OpLSTM {
			c0 := work.gatherState(in.C0, &work.c0, d, dir)
			var bias, peep []float32
			if in.B != nil {
				bw := in.B.F32[dir*8*H : (dir+1)*8*H]
				work.bias = grow(work.bias, 4*H)
				for j := range work.bias {
					work.bias[j] = bw[j] + bw[4*H+j]
				}
				bias = work.bias
			}
			if in.P != nil {
				peep = in.P.F32[dir*3*H : (dir+1)*3*H]
			}
			w := LSTMWeights{I: I, H: H, W: wd, R: rd, B: bias, P: peep}
			LSTMForward(pk, w, work.xp, h0, c0, work.yp, hT, work.cT, &work.lstm)
		} else {
			var bias []float32
			if in.B != nil {
				bias = in.B.F32[dir*6*H : (dir+1)*6*H]
			}
			w := GRUWeights{I: I, H: H, W: wd, R: rd, B: bias, LinearBeforeReset: a.LinearBeforeReset}
			GRUForward(pk, w, work.xp, h0, work.yp, hT, &work.gru)
		}
		// Scatter back to original rows and steps.
		if out.Y != nil {
			for t := range pk.Steps() {
				for b := range pk.Active[t] {
					ob, l := work.order[b], work.lens[b]
					s := t
					if reverse {
						s = l - 1 - t
					}
					src := pk.Index(b, t) * H
					dst := d.yIndex(ob, s, dir) * H
					copy(out.Y.F32[dst:dst+H], work.yp[src:src+H])
				}
			}
		}
		for b, ob := range work.order {
			dst := d.hIndex(ob, dir) * H
			if out.Yh != nil {
				copy(out.Yh.F32[dst:dst+H], hT[b*H:(b+1)*H])
			}
			if out.Yc != nil {
				copy(out.Yc.F32[dst:dst+H], work.cT[b*H:(b+1)*H])
			}
		}
	}
	return nil
}

// gatherState copies direction dir of an initial state [D, B, H] (layout 0)
// or [B, D, H] (layout 1) into *buf in packed row order; nil stays nil.
func (w *ONNXRNNWork) gatherState(s *graph.Tensor, buf *[]float32, d rnnDims, dir int) []float32 {
	if s == nil {
		return nil
	}
	H := d.H
	*buf = grow(*buf, d.B*H)
	for b, ob := range w.order {
		src := d.hIndex(ob, dir) * H
		copy((*buf)[b*H:(b+1)*H], s.F32[src:src+H])
	}
	return *buf
}

// xIndex is the row of X holding (row b, step s).
func (d rnnDims) xIndex(b, s int) int {
	if d.layout == 0 {
		return s*d.B + b
	}
	return b*d.T + s
}

// yIndex is the row of Y holding (row b, step s, direction dir).
func (d rnnDims) yIndex(b, s, dir int) int {
	if d.layout == 0 {
		return (s*d.D+dir)*d.B + b
	}
	return (b*d.T+s)*d.D + dir
}

// hIndex is the row of Y_h, Y_c, initial_h or initial_c holding (row b,
// direction dir).
func (d rnnDims) hIndex(b, dir int) int {
	if d.layout == 0 {
		return dir*d.B + b
	}
	return b*d.D + dir
}

// checkRNN validates an LSTM's or GRU's inputs and returns their dimensions.
func checkRNN(op graph.Op, in ONNXRNNInputs, a ONNXRNNAttrs) (rnnDims, error) {
	var d rnnDims
	d.gates = 4
	if op == graph.OpGRU {
		d.gates = 3
	}
	switch a.Direction {
	case DirForward, "", DirReverse:
		d.D = 1
	case DirBidirectional:
		d.D = 2
	default:
		return d, fmt.Errorf("direction %q is not forward, reverse or bidirectional", a.Direction)
	}
	if a.Layout != 0 && a.Layout != 1 {
		return d, fmt.Errorf("layout %d is not 0 or 1", a.Layout)
	}
	d.layout = a.Layout
	for _, t := range []struct {
		name string
		t    *graph.Tensor
	}{{"X", in.X}, {"W", in.W}, {"R", in.R}, {"B", in.B}, {"initial_h", in.H0}, {"initial_c", in.C0}, {"P", in.P}} {
		if t.t != nil && t.t.DType != graph.Float32 {
			return d, fmt.Errorf("%s is %v; only float32 is supported", t.name, t.t.DType)
		}
	}
	if in.X == nil || in.W == nil || in.R == nil {
		return d, fmt.Errorf("inputs X, W and R are required")
	}
	if len(in.X.Shape) != 3 {
		return d, fmt.Errorf("X must have rank 3, found shape %s", FormatShape(in.X.Shape))
	}
	if a.Layout == 0 {
		d.T, d.B, d.I = in.X.Shape[0], in.X.Shape[1], in.X.Shape[2]
	} else {
		d.B, d.T, d.I = in.X.Shape[0], in.X.Shape[1], in.X.Shape[2]
	}
	d.H = a.HiddenSize
	if d.H == 0 {
		if len(in.R.Shape) != 3 {
			return d, fmt.Errorf("R must have rank 3, found shape %s", FormatShape(in.R.Shape))
		}
		d.H = in.R.Shape[2]
	}
	if d.H <= 0 {
		return d, fmt.Errorf("hidden_size must be positive, found %d", d.H)
	}
	g := d.gates
	want := func(name string, t *graph.Tensor, shape ...int) error {
		if t != nil && !slices.Equal(t.Shape, shape) {
			return fmt.Errorf("%s must have shape %s, found %s", name, FormatShape(shape), FormatShape(t.Shape))
		}
		return nil
	}
	state := []int{d.D, d.B, d.H}
	if a.Layout == 1 {
		state = []int{d.B, d.D, d.H}
	}
	for _, err := range []error{
		want("W", in.W, d.D, g*d.H, d.I),
		want("R", in.R, d.D, g*d.H, d.H),
		want("B", in.B, d.D, 2*g*d.H),
		want("sequence_lens", in.SeqLens, d.B),
		want("initial_h", in.H0, state...),
		want("initial_c", in.C0, state...),
		want("P", in.P, d.D, 3*d.H),
	} {
		if err != nil {
			return d, err
		}
	}
	if op == graph.OpGRU && (in.C0 != nil || in.P != nil) {
		return d, fmt.Errorf("GRU takes no initial_c or P")
	}
	if s := in.SeqLens; s != nil {
		if s.DType != graph.Int32 {
			return d, fmt.Errorf("sequence_lens must be int32, found %v", s.DType)
		}
		for b, l := range s.I32 {
			if l < 0 || int(l) > d.T {
				return d, fmt.Errorf("sequence_lens[%d] = %d is outside [0, %d] (seq_length)", b, l, d.T)
			}
		}
	}
	return d, nil
}

// onnxRecurrentNaive computes an ONNX LSTM (op = OpLSTM) or GRU (OpGRU)
// exactly as ONNXLSTM and ONNXGRU do, but directly from the ONNX equations
// on the padded layout, row by row and step by step in float64, with the
// same rule for padded steps. It is the oracle of the adapter's tests. All
// three outputs are returned (yc nil for the GRU).
func onnxRecurrentNaive(op graph.Op, in ONNXRNNInputs, a ONNXRNNAttrs) (y, yh, yc *graph.Tensor, err error) {
	d, err := checkRNN(op, in, a)
	if err != nil {
		return nil, nil, nil, err
	}
	T, B, I, H, D := d.T, d.B, d.I, d.H, d.D
	G := d.gates * H
	if d.layout == 0 {
		y, yh = graph.NewTensor(graph.Float32, T, D, B, H), graph.NewTensor(graph.Float32, D, B, H)
	} else {
		y, yh = graph.NewTensor(graph.Float32, B, T, D, H), graph.NewTensor(graph.Float32, B, D, H)
	}
	if op == graph.OpLSTM {
		yc = graph.NewTensor(graph.Float32, yh.Shape...)
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	at := func(t *graph.Tensor, i int) float64 {
		if t == nil {
			return 0
		}
		return float64(t.F32[i])
	}
	for dir := range D {
		reverse := a.Direction == DirReverse || dir == 1
		W := in.W.F32[dir*G*I:]
		R := in.R.F32[dir*G*H:]
		bOff := dir * 2 * G
		for b := range B {
			l := T
			if in.SeqLens != nil {
				l = int(in.SeqLens.I32[b])
			}
			h, c := make([]float64, H), make([]float64, H)
			if l == 0 {
				continue // outputs stay 0
			}
			for j := range H {
				h[j] = at(in.H0, d.hIndex(b, dir)*H+j)
				c[j] = at(in.C0, d.hIndex(b, dir)*H+j)
			}
			for k := range l {
				s := k
				if reverse {
					s = l - 1 - k
				}
				x := in.X.F32[d.xIndex(b, s)*I:]
				// wx[g] = x·W_gᵀ + Wb_g, rh[g] = h·R_gᵀ + Rb_g for every gate row.
				wx, rh := make([]float64, G), make([]float64, G)
				for g := range G {
					var sw, sr float64
					for i := range I {
						sw += float64(x[i]) * float64(W[g*I+i])
					}
					for i := range H {
						sr += h[i] * float64(R[g*H+i])
					}
					wx[g] = sw + at(in.B, bOff+g)
					rh[g] = sr + at(in.B, bOff+G+g)
				}
				nh := make([]float64, H)
				if op == graph.OpLSTM {
					for j := range H {
						p := func(gate int) float64 { return at(in.P, dir*3*H+gate*H+j) }
						ig := sig(wx[j] + rh[j] + p(0)*c[j])
						fg := sig(wx[2*H+j] + rh[2*H+j] + p(2)*c[j])
						cc := math.Tanh(wx[3*H+j] + rh[3*H+j])
						c[j] = fg*c[j] + ig*cc
						og := sig(wx[H+j] + rh[H+j] + p(1)*c[j])
						nh[j] = og * math.Tanh(c[j])
					}
				} else {
					// Candidate with the reset gate applied before (linear_before_reset
					// = 0) or after (= 1) the recurrent product.
					r := make([]float64, H)
					for j := range H {
						r[j] = sig(wx[H+j] + rh[H+j])
					}
					for j := range H {
						z := sig(wx[j] + rh[j])
						var hc float64
						if a.LinearBeforeReset {
							hc = math.Tanh(wx[2*H+j] + r[j]*rh[2*H+j])
						} else {
							var sr float64
							for i := range H {
								sr += r[i] * h[i] * float64(R[(2*H+j)*H+i])
							}
							hc = math.Tanh(wx[2*H+j] + sr + at(in.B, bOff+G+2*H+j))
						}
						nh[j] = (1-z)*hc + z*h[j]
					}
				}
				h = nh
				for j := range H {
					y.F32[d.yIndex(b, s, dir)*H+j] = float32(h[j])
				}
			}
			for j := range H {
				yh.F32[d.hIndex(b, dir)*H+j] = float32(h[j])
				if yc != nil {
					yc.F32[d.hIndex(b, dir)*H+j] = float32(c[j])
				}
			}
		}
	}
	return y, yh, yc, nil
}
