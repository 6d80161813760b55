package compiler

// Parameter initialisers, as Keras defines them for its recurrent layers.
// Compile only allocates parameters; Program.Initialize runs these when a
// run starts fresh, and nothing else needs them: a checkpoint or an ONNX
// model brings its own values.
//
// Each parameter draws from its own random stream, math/rand/v2's PCG seeded
// by training.seed and the FNV-1a hash of the parameter's name: a parameter's
// initial values depend only on the seed, its name and its shape, not on the
// rest of the model, and are the same on every machine. The arithmetic that
// turns the stream into values rounds each product explicitly, so no
// architecture may fuse operations and round differently.

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/trnn/trnn/graph"
)

// graph.Param.Init values the compiler writes.
const (
	InitGlorotUniform = "glorot_uniform"
	InitOrthogonal    = "orthogonal"
	InitZeros         = "zeros"
	InitOnes          = "ones"
	InitLSTMBias      = "lstm_bias"
	InitFitted        = "fitted"
	InitONNX          = "onnx"
)

// ParamRand returns the random stream that initialises the parameter called
// name under seed.
func ParamRand(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// InitParam fills p.Tensor (float32) as p.Init says, drawing from
// ParamRand(seed, p.Name). Parameters are laid out [out, in], so a 2-D
// parameter of shape [rows, cols] has fan-in cols and fan-out rows. "fitted"
// and "onnx" parameters keep their values; they are not drawn at random.
func InitParam(p *graph.Param, seed uint64) error {
	t := p.Tensor
	if t == nil || t.DType != graph.Float32 || len(t.F32) != graph.Size(t.Shape) {
		return fmt.Errorf("compiler: InitParam %s: want a float32 tensor whose data matches its shape", p.Name)
	}
	w := t.F32
	need2D := func() error {
		if len(t.Shape) != 2 {
			return fmt.Errorf("compiler: InitParam %s: %s needs a 2-D shape, got %v", p.Name, p.Init, t.Shape)
		}
		return nil
	}
	switch p.Init {
	case InitZeros:
		clear(w)
	case InitOnes:
		for i := range w {
			w[i] = 1
		}
	case InitGlorotUniform:
		if err := need2D(); err != nil {
			return err
		}
		GlorotUniform(w, t.Shape[1], t.Shape[0], ParamRand(seed, p.Name))
	case InitOrthogonal:
		if err := need2D(); err != nil {
			return err
		}
		Orthogonal(w, t.Shape[0], t.Shape[1], ParamRand(seed, p.Name))
	case InitLSTMBias:
		if len(t.Shape) != 1 || t.Shape[0]%graph.LSTMGates != 0 {
			return fmt.Errorf("compiler: InitParam %s: lstm_bias needs a shape [4H], got %v", p.Name, t.Shape)
		}
		LSTMBias(w, t.Shape[0]/graph.LSTMGates)
	case InitFitted, InitONNX:
	default:
		return fmt.Errorf("compiler: InitParam %s: unknown initialiser %q", p.Name, p.Init)
	}
	return nil
}

// GlorotUniform fills w with values drawn uniformly from [−limit, limit),
// limit = √(6 / (fanIn + fanOut)) (Glorot and Bengio, 2010; Keras's
// glorot_uniform).
func GlorotUniform(w []float32, fanIn, fanOut int, r *rand.Rand) {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		u := float64(2*r.Float64()) - 1
		w[i] = float32(float64(u * limit))
	}
}

// LSTMBias sets an LSTM bias [4H], gate blocks in ONNX's order i, o, f, c, to
// zeros with the forget-gate block at 1 (Keras's unit_forget_bias;
// Jozefowicz et al., 2015).
func LSTMBias(b []float32, hidden int) {
	if len(b) != graph.LSTMGates*hidden {
		panic(fmt.Sprintf("compiler: LSTMBias: %d values for %d hidden units", len(b), hidden))
	}
	clear(b)
	f := b[graph.LSTMGateF*hidden : (graph.LSTMGateF+1)*hidden]
	for i := range f {
		f[i] = 1
	}
}

// Orthogonal fills w, a row-major [rows, cols] matrix, with a random
// orthogonal matrix as Keras's Orthogonal initialiser does: the Q factor of
// the QR decomposition of a standard Gaussian matrix, with the signs of its
// columns chosen so that R has a positive diagonal (which makes Q uniformly
// distributed; Mezzadri, 2007). When rows ≥ cols the columns of w are
// orthonormal (wᵀw = I); otherwise the Gaussian matrix is drawn [cols, rows]
// and w is its Qᵀ, with orthonormal rows.
//
// An LSTM's recurrent weights R [4H, H] are the transpose of Keras's
// recurrent kernel [H, 4H], so they get the same distribution: RᵀR = I.
func Orthogonal(w []float32, rows, cols int, r *rand.Rand) {
	if len(w) != rows*cols {
		panic(fmt.Sprintf("compiler: Orthogonal: %d values for [%d, %d]", len(w), rows, cols))
	}
	m, n := max(rows, cols), min(rows, cols)
	a := make([]float64, m*n) // [m, n] row-major
	for i := range a {
		a[i] = r.NormFloat64()
	}
	q := householderQ(a, m, n)
	if rows >= cols {
		for i, x := range q {
			w[i] = float32(x)
		}
		return
	}
	for i := range m { // w = qᵀ
		for j := range n {
			w[j*cols+i] = float32(q[i*n+j])
		}
	}
}

// householderQ returns the thin Q [m, n] (m ≥ n) of a = QR with R's diagonal
// made positive. a [m, n] row-major is overwritten. Householder reflections,
// as LAPACK's dgeqr2 and dorg2r.
func householderQ(a []float64, m, n int) []float64 {
	vs := make([][]float64, n) // reflector k acts on rows k..m-1
	vvs := make([]float64, n)  // vᵀv of each reflector
	sign := make([]float64, n) // sign of R's diagonal
	wrow := make([]float64, n)
	for k := range n {
		v := make([]float64, m-k)
		norm := 0.0
		for i := k; i < m; i++ {
			v[i-k] = a[i*n+k]
			norm += float64(v[i-k] * v[i-k])
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			sign[k] = 1
			continue
		}
		alpha := -math.Copysign(norm, v[0]) // R[k][k]; v[0]-alpha cannot cancel
		v[0] -= alpha
		vv := 0.0
		for _, x := range v {
			vv += float64(x * x)
		}
		vs[k], vvs[k] = v, vv
		if alpha < 0 {
			sign[k] = -1
		} else {
			sign[k] = 1
		}
		// a[k:, k:] -= (2/vv) v (vᵀ a[k:, k:])
		applyReflector(a, n, k, k, v, vv, wrow)
	}
	// Q = H_0 H_1 ... H_{n-1} I[:, :n], applied from the last reflector.
	q := make([]float64, m*n)
	for j := range n {
		q[j*n+j] = 1
	}
	for k := n - 1; k >= 0; k-- {
		if vs[k] != nil {
			applyReflector(q, n, k, k, vs[k], vvs[k], wrow)
		}
	}
	for i := range m {
		for j := range n {
			q[i*n+j] *= sign[j]
		}
	}
	return q
}

// applyReflector applies I − (2/vv)·v·vᵀ to rows r0.. and columns c0.. of the
// row-major matrix a with n columns; v spans rows r0..r0+len(v)-1. w is
// scratch of at least n values.
func applyReflector(a []float64, n, r0, c0 int, v []float64, vv float64, w []float64) {
	w = w[c0:n]
	clear(w)
	for i, vi := range v {
		row := a[(r0+i)*n+c0 : (r0+i+1)*n]
		for j, x := range row {
			w[j] += float64(vi * x)
		}
	}
	s := 2 / vv
	for i, vi := range v {
		row := a[(r0+i)*n+c0 : (r0+i+1)*n]
		f := float64(s * vi)
		for j := range row {
			row[j] -= float64(f * w[j])
		}
	}
}
