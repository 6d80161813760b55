package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamStepSameBits: the vector step gives the scalar loop's bits for
// every length around the 16-lane blocks, Adam and AdamW, over several steps
// with moments that grow from zero, including zero and negative-zero
// gradients and large and tiny magnitudes.
func TestAdamStepSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 15, 16, 17, 33, 100, 257} {
		for _, decoupled := range []bool{false, true} {
			p, g := make([]float32, n), make([]float32, n)
			for i := range p {
				p[i] = float32(rng.NormFloat64())
			}
			p2 := append([]float32(nil), p...)
			m, v, m2, v2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for step := 1; step <= 5; step++ {
				for i := range g {
					g[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-8)))
					if rng.IntN(10) == 0 {
						g[i] = float32(math.Copysign(0, float64(rng.IntN(2)*2-1)))
					}
				}
				bc1, bc2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.999, float64(step))
				h := AdamHyper{B1: 0.9, B2: 0.999, StepSize: float32(1e-3 / bc1), InvSqrtBC2: float32(1 / math.Sqrt(bc2)),
					Eps: 1e-8, WD: 0.01, Decay: float32(1 - 1e-3*0.01), Decoupled: decoupled}
				AdamStep(p, g, m, v, h)
				adamGo(p2, g, m2, v2, h)
				for i := range p {
					if math.Float32bits(p[i]) != math.Float32bits(p2[i]) || math.Float32bits(m[i]) != math.Float32bits(m2[i]) || math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
						t.Fatalf("n=%d decoupled=%v step %d, element %d: p, m, v = %v, %v, %v; scalar %v, %v, %v", n, decoupled, step, i, p[i], m[i], v[i], p2[i], m2[i], v2[i])
					}
				}
			}
		}
	}
}

// TestAdamStepValues: one step from zero moments moves every parameter by
// lr·sign(g) (to rounding), as Adam's first step does.
func TestAdamStepValues(t *testing.T) {
	n := 40
	p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i - 20)
		if g[i] == 0 {
			g[i] = 0.5
		}
	}
	h := AdamHyper{B1: 0.9, B2: 0.999, StepSize: float32(0.01 / 0.1), InvSqrtBC2: float32(1 / math.Sqrt(0.001)), Eps: 1e-8}
	AdamStep(p, g, m, v, h)
	for i := range p {
		if want := -0.01 * math.Copysign(1, float64(g[i])); math.Abs(float64(p[i])-want) > 1e-6 {
			t.Fatalf("element %d: p = %v after one step of gradient %v, want %v", i, p[i], g[i], want)
		}
	}
}

func TestAddTo(t *testing.T) {
	for _, n := range []int{0, 1, 16, 31, 64, 99} {
		dst, src := make([]float32, n+1), make([]float32, n)
		for i := range src {
			dst[i], src[i] = float32(i)*0.1, float32(i)*0.7
		}
		dst[n] = 42
		AddTo(dst[:n], src)
		for i := range n {
			if want := float32(i)*0.1 + float32(i)*0.7; dst[i] != want {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, dst[i], want)
			}
		}
		if dst[n] != 42 {
			t.Fatalf("n=%d: AddTo wrote past the end", n)
		}
	}
}

func TestAdamStepShortSlices(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("short moments did not panic")
		}
	}()
	AdamStep(make([]float32, 4), make([]float32, 4), make([]float32, 4), make([]float32, 3), AdamHyper{})
}
