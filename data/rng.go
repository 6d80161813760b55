package data

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is the package's deterministic random source. Only PCG's raw 64-bit
// output is taken from the standard library; bounded integers, shuffles and
// normal deviates are derived here so that a seed gives the same split and
// the same synthetic data in every Go release.
type rng struct{ src *rand.PCG }

// Streams keep the uses of one seed independent of each other.
const (
	splitStream = 0x7472_6e6e_7370_6c74 // "trnnsplt"
	synthStream = 0x7472_6e6e_7379_6e74 // "trnnsynt"
	gapsStream  = 0x7472_6e6e_6761_7073 // "trnngaps"
)

func newRNG(seed, stream uint64) *rng { return &rng{rand.NewPCG(seed, stream)} }

// intn returns a uniform integer in [0, n), n > 0 (Lemire's multiply and
// reject).
func (r *rng) intn(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.src.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.src.Uint64(), un)
		}
	}
	return int(hi)
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) * 0x1p-53 }

// normal returns a standard normal deviate (Box–Muller, one value per call).
func (r *rng) normal() float64 {
	u := 1 - r.float() // (0, 1]
	v := r.float()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*v)
}

// shuffle permutes s uniformly (Fisher–Yates).
func (r *rng) shuffle(s []int) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}
