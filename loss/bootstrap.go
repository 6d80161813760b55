package loss

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// A metric computed on one test set is one draw: the percentile bootstrap
// shows how much it would move on another test set of the same size, the
// way mimic3-benchmarks reports its test metrics (Harutyunyan et al.,
// "Multitask learning and benchmarking with clinical time series data",
// Scientific Data 6, 2019): resample the sequences with replacement,
// recompute every metric, and take the 2.5th and 97.5th percentiles.

// BootstrapLevel is the coverage of Bootstrap's intervals.
const BootstrapLevel = 0.95

// Interval is a percentile-bootstrap confidence interval of one metric.
type Interval struct {
	Lo, Hi Value
	// Defined is the number of replicates in which the metric was defined
	// (a resample may hold one class only); the percentiles are taken
	// over those. Lo and Hi are undefined when none was.
	Defined int
}

// MarshalJSON writes {"lo": …, "hi": …, "defined": …}, null for an
// undefined bound.
func (iv Interval) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Lo      Value `json:"lo"`
		Hi      Value `json:"hi"`
		Defined int   `json:"defined"`
	}{iv.Lo, iv.Hi, iv.Defined})
}

// Bootstrap computes a 95% percentile-bootstrap interval for every metric
// of MetricNames: reps times it draws n sequences with replacement from the
// n of probs and y ([n, K] each, as Evaluate takes them), evaluates them
// with opts (the threshold stays the one given), and takes the 2.5th and
// 97.5th percentiles of each metric over the replicates where it is
// defined, interpolated linearly as NumPy's percentile does. Replicate r
// draws from its own generator, seeded by (seed, r), so the result depends
// on the seed only, not on how many goroutines compute it. Errors are
// Evaluate's.
func Bootstrap(probs, y []float32, n, K int, opts EvalOptions, reps int, seed uint64) (map[string]Interval, error) {
	if reps < 1 {
		panic(fmt.Sprintf("loss: Bootstrap: %d replicates", reps))
	}
	if err := checkEval(probs, y, n, K, opts); err != nil {
		return nil, err
	}
	names := MetricNames()
	values := make([][]float64, len(names)) // [metric][replicate], NaN when undefined
	for m := range values {
		values[m] = make([]float64, reps)
	}
	workers := min(reps, 4)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := newResample(probs, y, opts.Logits, n, K)
			for r := w; r < reps; r += workers {
				met := rs.evaluate(seed, r, opts)
				for m, name := range names {
					v, ok := met.Get(name)
					if !ok {
						v = math.NaN()
					}
					values[m][r] = v
				}
			}
		}()
	}
	wg.Wait()
	out := make(map[string]Interval, len(names))
	for m, name := range names {
		out[name] = interval(values[m])
	}
	return out, nil
}

// resample holds one worker's buffers for the replicates it evaluates.
type resample struct {
	probs, y, logits []float32 // the data, [n·K]
	rp, ry, rl       []float32 // a replicate, [n·K]
	n, K             int
}

func newResample(probs, y, logits []float32, n, K int) *resample {
	rs := &resample{probs: probs, y: y, logits: logits, n: n, K: K, rp: make([]float32, n*K), ry: make([]float32, n*K)}
	if logits != nil {
		rs.rl = make([]float32, n*K)
	}
	return rs
}

// evaluate draws replicate r and computes its metrics.
func (rs *resample) evaluate(seed uint64, r int, opts EvalOptions) *Metrics {
	rng := rand.New(rand.NewPCG(seed, uint64(r)))
	K := rs.K
	for i := range rs.n {
		j := rng.IntN(rs.n)
		copy(rs.rp[i*K:(i+1)*K], rs.probs[j*K:(j+1)*K])
		copy(rs.ry[i*K:(i+1)*K], rs.y[j*K:(j+1)*K])
		if rs.rl != nil {
			copy(rs.rl[i*K:(i+1)*K], rs.logits[j*K:(j+1)*K])
		}
	}
	opts.Logits = rs.rl
	m, err := Evaluate(rs.rp, rs.ry, rs.n, K, opts)
	if err != nil {
		panic("loss: Bootstrap: a resample of checked data failed: " + err.Error())
	}
	return m
}

// interval is the percentile interval of the defined (not NaN) values.
func interval(vals []float64) Interval {
	def := make([]float64, 0, len(vals))
	for _, v := range vals {
		if !math.IsNaN(v) {
			def = append(def, v)
		}
	}
	if len(def) == 0 {
		return Interval{Lo: undefined, Hi: undefined}
	}
	slices.Sort(def)
	tail := (1 - BootstrapLevel) / 2 * 100
	return Interval{Lo: defined(Percentile(def, tail)), Hi: defined(Percentile(def, 100-tail)), Defined: len(def)}
}

// Percentile is NumPy's percentile(sorted, q) with its default linear
// method: the value at position q/100·(m − 1) of the m sorted values,
// interpolated between its neighbours as NumPy computes it (from the lower
// neighbour below the midpoint, from the upper one above it), so the
// result matches NumPy's bit for bit. sorted must be ascending and not
// empty; q is in [0, 100].
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 || !(q >= 0 && q <= 100) {
		panic(fmt.Sprintf("loss: Percentile: %d values, q = %v", len(sorted), q))
	}
	pos := q / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	a, b, t := sorted[lo], sorted[lo+1], pos-float64(lo)
	d := b - a
	// The explicit conversions round each product, as NumPy does, where
	// Go could otherwise fuse the multiply and add.
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}
